/*
 * backtrace.h: stacks written to the error log from inside the process, with
 * no ptrace, so it works in containers: the slow-request log, the master's
 * heartbeat kill, and a crashing handler.
 */
#ifndef SLUICE_BACKTRACE_H
#define SLUICE_BACKTRACE_H

/* The signal that makes a thread write its own stack. */
#define SL_BT_SIGNAL SIGUSR2

/*
 * Install the handlers: SL_BT_SIGNAL writes the receiving thread's stack;
 * SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT write what the thread was
 * running and its stack, then die as the signal would.  `fd` is where they
 * write (the error log itself, never a pipe the loop must drain), as plain
 * lines or, with `json`, as JSON log lines.
 */
void sl_bt_install(int fd, int json);

/* What the calling thread is running, for the crash report ("GET
 * /items/{id:int}"); NULL when idle.  The string must outlive the call.
 * The report escapes it (control bytes, backslashes and bytes that are not
 * UTF-8 become \xHH), so it may hold what a peer sent. */
void sl_bt_set_current(const char *what);

/*
 * Called by the crash handler on the crashing thread, with the string that
 * thread set with sl_bt_set_current(), once the report is written and
 * before the process dies (not when the thread was idle).  It runs in a
 * signal handler: async-signal-safe work only (reading memory, atomic
 * stores; no malloc, no locks).  One per process; NULL: none.
 */
typedef void (*sl_bt_crash_fn)(const char *what);
void sl_bt_on_crash(sl_bt_crash_fn fn);

#endif
