import { test, expect, type ConsoleMessage } from "@playwright/test";

test.describe("home page", () => {
  test("is rendered on the server before any script runs", async ({ request }) => {
    const response = await request.get("/");
    expect(response.status()).toBe(200);
    const html = await response.text();
    expect(html).toContain("<h1>Sessions done right</h1>");
    // Server-rendered controls are disabled until the wasm bundle takes over.
    expect(html).toMatch(/<section[^>]*data-hydrated="false"/);
    expect(html).toMatch(/<button[^>]*disabled[^>]*>Next step/);
  });

  test("hydrates: the walkthrough responds to clicks and the console stays clean", async ({ page }) => {
    const problems: string[] = [];
    page.on("console", (message: ConsoleMessage) => {
      if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));

    await page.goto("/");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sessions done right");

    const walkthrough = page.locator("section.walkthrough");
    await expect(walkthrough).toHaveAttribute("data-hydrated", "true");
    const next = page.getByRole("button", { name: "Next step" });
    await expect(next).toBeEnabled();
    await expect(page.getByText("Step 1 of 4: Sign in")).toBeVisible();
    await next.click();
    await expect(page.getByText("Step 2 of 4: Short-lived access")).toBeVisible();
    await page.getByRole("button", { name: "Previous" }).click();
    await expect(page.getByText("Step 1 of 4: Sign in")).toBeVisible();

    expect(problems).toEqual([]);
  });

  test("layout has header, main and footer landmarks at phone and desktop widths", async ({ page }) => {
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto("/");
      await expect(page.getByRole("banner")).toBeVisible();
      await expect(page.getByRole("main")).toBeVisible();
      await expect(page.getByRole("contentinfo")).toBeVisible();
      // Nothing overflows sideways on a phone.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    }
  });

  test("unknown pages get a 404 with a way back", async ({ page }) => {
    const response = await page.goto("/definitely/not/here");
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
    await page.getByRole("link", { name: "Go to the home page" }).click();
    await expect(page).toHaveURL(/\/$/);
  });
});

test.describe("content security policy", () => {
  test("pages carry a script nonce policy that hydration satisfies", async ({ page }) => {
    const violations: string[] = [];
    page.on("console", (m) => {
      if (m.text().includes("Content Security Policy")) violations.push(m.text());
    });
    const response = await page.goto("/");
    const policy = response!.headers()["content-security-policy"];
    expect(policy).toMatch(/script-src 'nonce-[A-Za-z0-9_-]+'/);
    expect(policy).not.toContain("unsafe-inline");
    await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");
    expect(violations).toEqual([]);
  });

  test("an injected inline script without the nonce does not run", async ({ page }) => {
    // Simulate stored XSS: the server's HTML gains a <script> it did not put there.
    await page.route("**/", async (route) => {
      const response = await route.fetch();
      const html = (await response.text()).replace("</head>", "<script>window.__pwned = true</script></head>");
      const headers = { ...response.headers() };
      delete headers["content-length"];
      delete headers["transfer-encoding"];
      await route.fulfill({ status: response.status(), headers, body: html });
    });
    await page.goto("/");
    await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");
    expect(await page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined();
  });
});
