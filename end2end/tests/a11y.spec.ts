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
