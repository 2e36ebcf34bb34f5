import { test, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { signUp, uniqueEmail, waitForHydration } from "./helpers";

// axe-core (WCAG 2.1 A and AA rules) on every page, signed out and signed in, in light
// and dark colour schemes, at phone and desktop widths. Any serious or critical
// violation fails the test, naming the rule and the elements.
const SIGNED_OUT = ["/", "/login", "/signup", "/forgot", "/sign-in-code", "/reset", "/verify-email", "/confirm-email"];
const SIGNED_IN = ["/", "/account", "/devices", "/activity"];

async function audit(page: Page, label: string): Promise<void> {
  await waitForHydration(page);
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = serious.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(report, `${label}`).toEqual([]);
}

for (const scheme of ["light", "dark"] as const) {
  for (const width of [375, 1280]) {
    test(`pages pass axe in ${scheme} mode at ${width}px`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height: 900 });
      for (const path of SIGNED_OUT) {
        await page.goto(path);
        await audit(page, `${path} signed out, ${scheme}, ${width}px`);
      }
      await signUp(page, uniqueEmail(`a11y-${scheme}-${width}`));
      for (const path of SIGNED_IN) {
        await page.goto(path);
        await audit(page, `${path} signed in, ${scheme}, ${width}px`);
      }
    });
  }
}

test("the signed-in header is one row at 1280px, with a long address shortened but whole", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  const email = `a-rather-long-address-for-the-header-${Date.now()}@subdomain.example.com`;
  await signUp(page, email);
  const brand = await page.locator(".brand").boundingBox();
  const nav = await page.getByRole("navigation", { name: "Main" }).boundingBox();
  // One row: the navigation sits beside the brand, not below it.
  expect(nav!.y).toBeLessThan(brand!.y + brand!.height);
  expect(nav!.x).toBeGreaterThan(brand!.x + brand!.width);
  const viewer = page.getByTestId("viewer-email");
  // Shortened on screen, whole for screen readers (its text) and on hover (its title).
  await expect(viewer).toHaveText(email);
  await expect(viewer).toHaveAttribute("title", email);
  expect(await viewer.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  // Focus unfolds it.
  await viewer.focus();
  expect(await viewer.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
});
