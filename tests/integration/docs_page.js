// docs_page.js: drive the docs page in Debian's chromium with playwright-core
// (test_docs_page.py).  Arguments: the npm directory, the page's URL, the
// screenshot's path, and a JSON list of tries: {path, method, params:
// {name: value}, body: text}.  Prints one JSON object: the page's title,
// every operation listed, each try's status and body as Swagger UI shows
// them (or, when Swagger UI refuses the form itself, its message), the
// requests that failed.
const [npmDir, url, shot, triesJson] = process.argv.slice(2);
const { chromium } = require(npmDir + "/node_modules/playwright-core");

(async () => {
    const out = { failed: [], errors: [], tries: [] };
    const browser = await chromium.launch({
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-extensions",
               "--disable-sync", "--no-first-run", "--mute-audio"],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    try {
        page.setDefaultTimeout(15000);
        page.on("requestfailed", (r) => out.failed.push(r.url()));
        page.on("pageerror", (e) => out.errors.push(String(e)));
        await page.goto(url, { waitUntil: "load" });
        await page.waitForSelector(".opblock");
        out.title = await page.locator(".info .title").first().innerText();
        out.operations = await page.$$eval(".opblock", (els) => els.map((e) => ({
            method: e.querySelector(".opblock-summary-method").textContent.trim(),
            path: e.querySelector(".opblock-summary-path").getAttribute("data-path"),
        })));
        for (const t of JSON.parse(triesJson)) {
            const op = page.locator(".opblock-" + t.method.toLowerCase())
                .filter({ has: page.locator(`.opblock-summary-path[data-path="${t.path}"]`) })
                .first();
            if (!(await op.locator(".try-out__btn").count()))
                await op.locator(".opblock-summary-control").first().click();
            await op.locator("button.try-out__btn").first().waitFor();
            // Once tried, the form stays open (its button says Cancel).
            const tryOut = op.locator("button.try-out__btn", { hasText: "Try it out" });
            if (await tryOut.count())
                await tryOut.first().click();
            for (const [name, value] of Object.entries(t.params || {})) {
                const input = op.locator(`tr[data-param-name="${name}"] input`).first();
                await input.fill(value);
            }
            if (t.body !== undefined)
                await op.locator("textarea.body-param__text").fill(t.body);
            // A response from an earlier try stays until the new one comes.
            if (await op.locator("button.btn-clear").count())
                await op.locator("button.btn-clear").click();
            await op.locator("button.execute").click();
            // Either the real response, or Swagger UI's own refusal of the
            // form (it checks parameters against their schemas first).
            const row = op.locator(".live-responses-table tbody .response").first();
            const refused = op.locator(".validation-errors").first();
            await row.or(refused).waitFor();
            if (await row.count()) {
                out.tries.push({
                    status: (await row.locator(".response-col_status").innerText()).trim(),
                    body: (await row.locator(".response-col_description pre").first()
                        .innerText()).trim(),
                });
            } else {
                out.tries.push({ refused: (await refused.innerText()).trim() });
            }
        }
    } catch (e) {
        out.errors.push(String(e.stack || e));
    } finally {
        // Kept whatever happened: it shows where a failing run stopped.
        await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
        await browser.close();
    }
    console.log(JSON.stringify(out));
})();
