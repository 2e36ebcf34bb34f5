import { test, expect, type Page } from "@playwright/test";
import * as OTPAuth from "otpauth";
import { signIn, signUp, uniqueEmail, waitForHydration } from "./helpers";

// Two-step sign-in with an authenticator app, computed here from the key the page shows
// (as the app would), and sudo mode ("confirm it is you").
test.describe.configure({ timeout: 120_000 });

/** The authenticator app: codes for the key shown on /account. */
function app(secret: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret.replace(/ /g, "")), digits: 6, period: 30, algorithm: "SHA1" });
}

/** Waits until the app shows a code of a later 30-second step than `step` (codes work once). */
async function nextCode(page: Page, totp: OTPAuth.TOTP, step: number): Promise<string> {
  while (Math.floor(Date.now() / 30_000) <= step) await page.waitForTimeout(500);
  return totp.generate();
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await waitForHydration(page);
}

test.describe("two-step sign-in", () => {
  test("enrol with the QR key, sign in with a recovery code, then with a code, then turn it off", async ({ page }) => {
    const email = uniqueEmail("totp");
    await signUp(page, email);
    await page.goto("/account");
    await waitForHydration(page);
    await expect(page.getByTestId("second-factor-status")).toContainText("Off.");

    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    await expect(page.getByAltText("QR code to scan with your authenticator app")).toBeVisible();
    const secret = (await page.getByTestId("totp-secret").textContent())!;
    const totp = app(secret);
    const confirmedStep = Math.floor(Date.now() / 30_000);
    await page.getByLabel("Enter the 6-digit code the app now shows").fill(totp.generate());
    await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
    const codes = page.getByTestId("recovery-codes").locator("code");
    await expect(codes).toHaveCount(10);
    const recovery = (await codes.allTextContents()).map((c) => c.trim());
    await expect(page.getByRole("link", { name: "Download" })).toHaveAttribute("download", "gatehouse-recovery-codes.txt");
    await expect(page.getByTestId("second-factor-status")).toContainText("On");

    // A lost phone: a recovery code signs in once.
    await signOut(page);
    await signIn(page, email);
    await expect(page).toHaveURL(/\/sign-in-code/);
    await expect(page.getByTestId("viewer-email")).toHaveCount(0);
    await waitForHydration(page);
    await page.getByLabel("Code").fill(recovery[0]);
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByTestId("viewer-email")).toHaveText(email);
    await page.goto("/devices");
    await expect(page.getByTestId("sign-in-method").first()).toHaveText("password and recovery code");
    await page.goto("/account");
    await expect(page.getByTestId("codes-left")).toHaveText("9 recovery codes left.");

    // The usual way: a code from the app (a fresh one: each works once).
    await signOut(page);
    await signIn(page, email);
    await expect(page).toHaveURL(/\/sign-in-code/);
    await waitForHydration(page);
    await page.getByLabel("Code").fill("000000");
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByRole("alert")).toContainText("That code is not right");
    await page.getByLabel("Code").fill(await nextCode(page, totp, confirmedStep));
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.getByTestId("viewer-email")).toHaveText(email);
    await page.goto("/devices");
    await expect(page.getByTestId("sign-in-method").first()).toHaveText("password and authenticator app");

    // Turning it off (the fresh sign-in is a proof of identity: sudo mode).
    await page.goto("/account");
    await waitForHydration(page);
    await page.getByRole("button", { name: "Turn off two-step sign-in" }).click();
    await expect(page.getByTestId("second-factor-status")).toContainText("Off.");
    await signOut(page);
    await signIn(page, email);
    await expect(page.getByTestId("viewer-email")).toHaveText(email);
  });
});

test.describe("two-step sign-in without JavaScript", () => {
  test("the password, then a recovery code, as plain form posts", async ({ page, browser }) => {
    const email = uniqueEmail("totp-nojs");
    await signUp(page, email);
    await page.goto("/account");
    await waitForHydration(page);
    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    const secret = (await page.getByTestId("totp-secret").textContent())!;
    await page.getByLabel("Enter the 6-digit code the app now shows").fill(app(secret).generate());
    await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
    const codes = page.getByTestId("recovery-codes").locator("code");
    await expect(codes).toHaveCount(10);
    const recovery = (await codes.first().textContent())!.trim();

    const context = await browser.newContext({ javaScriptEnabled: false });
    const plain = await context.newPage();
    await plain.goto("/login?next=/devices");
    await signIn(plain, email);
    await expect(plain).toHaveURL(/\/sign-in-code\?next=\/devices$/);
    await expect(plain.getByTestId("viewer-email")).toHaveCount(0);
    await plain.getByLabel("Code").fill(recovery);
    await plain.getByRole("button", { name: "Verify" }).click();
    await expect(plain).toHaveURL(/\/devices$/);
    await expect(plain.getByTestId("viewer-email")).toHaveText(email);
    await expect(plain.getByTestId("sign-in-method").first()).toHaveText("password and recovery code");
    await context.close();
  });
});
