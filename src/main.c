/* main.c: the sluice program; all of it is in the library (sluice.h). */
#include <sluice.h>

int main(int argc, char **argv) { return sluice_main(argc, argv); }
