import { test, expect } from "@playwright/test";
import * as OTPAuth from "otpauth";
import { audit, signIn, signUp, uniqueEmail, waitForHydration } from "./helpers";
import { linkIn, waitForMail } from "./mail";

test.describe("account recovery by mail", () => {
  test("forgot password → mail → reset → sign in with the new password", async ({ page }) => {
    const email = uniqueEmail("forgot");
    await signUp(page, email);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await waitForHydration(page);

    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await expect(page).toHaveURL(/\/forgot$/);
    await page.getByLabel("E-mail address").fill(email);
    await page.getByRole("button", { name: "Send me a link" }).click();
    await expect(page.getByTestId("forgot-sent")).toContainText("If an account uses that address");

    const link = linkIn(await waitForMail(email, "Reset your Gatehouse password"));
    const referers: string[] = [];
    page.on("request", (request) => {
      const referer = request.headers()["referer"];
      if (referer) referers.push(referer);
    });
    await page.goto(link);
    // The token left the address bar before the page was even drawn.
    await expect(page).toHaveURL(/\/reset$/);
    await expect(page.getByText(email)).toBeVisible();
    await waitForHydration(page);
    await page.getByLabel("New password").fill("a brand new password");
    await page.getByRole("button", { name: "Set new password" }).click();

    // The reset's page: nothing but the password gets in.
    await expect(page).toHaveURL(/\/reset-review$/);
    await expect(page.getByTestId("review-no-passkeys")).toBeVisible();
    await expect(page.getByTestId("review-second-factor")).toHaveText("Two-step sign-in is off.");
    await page.getByRole("link", { name: "Continue to sign in" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole("status")).toContainText("Your password has been changed");
    expect(referers.filter((r) => r.includes("token="))).toEqual([]);
    await waitForHydration(page);
    await signIn(page, email, "a brand new password");
    await expect(page.getByTestId("viewer-email")).toHaveText(email);

    const notice = await waitForMail(email, "Your Gatehouse password was reset");
    expect(notice.text).toContain("it has no passkeys and two-step sign-in is off");
    // The same link again: used.
    await page.goto(link);
    await expect(page.getByTestId("link-problem")).toHaveText("This link has already been used.");
    await expect(page.getByRole("link", { name: "Ask for a new link" })).toBeVisible();
  });

  test("the reset works without JavaScript too", async ({ browser }) => {
    const setup = await browser.newPage();
    const email = uniqueEmail("nojs");
    await signUp(setup, email);
    await setup.close();

    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto("/forgot");
    await page.getByLabel("E-mail address").fill(email);
    await page.getByRole("button", { name: "Send me a link" }).click();
    await expect(page.getByTestId("forgot-sent")).toBeVisible();
    await page.goto(linkIn(await waitForMail(email, "Reset your Gatehouse password")));
    await expect(page).toHaveURL(/\/reset$/);
    await page.getByLabel("New password").fill("set without javascript");
    await page.getByRole("button", { name: "Set new password" }).click();
    await expect(page).toHaveURL(/\/reset-review$/);
    await expect(page.getByTestId("review-no-passkeys")).toBeVisible();
    await page.getByRole("link", { name: "Continue to sign in" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await signIn(page, email, "set without javascript");
    await expect(page.getByTestId("viewer-email")).toHaveText(email);
    await context.close();
  });

  test("after a reset, a passkey and two-step sign-in someone added are listed and removed right there", async ({ browser }) => {
    const email = uniqueEmail("review");
    // Someone who had the password added a passkey and turned on two-step sign-in with
    // an app of their own, which would keep the owner out even after a reset.
    const intruder = await browser.newContext();
    const theirs = await intruder.newPage();
    const cdp = await intruder.newCDPSession(theirs);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await signUp(theirs, email);
    await theirs.goto("/account");
    await waitForHydration(theirs);
    await theirs.getByLabel("Name (optional)").fill("Unknown key");
    await theirs.getByRole("button", { name: "Add a passkey" }).click();
    await expect(theirs.getByText("Passkey “Unknown key” added")).toBeVisible();
    await theirs.getByRole("button", { name: "Set up an authenticator app" }).click();
    const secret = (await theirs.getByTestId("totp-secret").textContent())!.replace(/ /g, "");
    const app = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" });
    await theirs.getByLabel("Enter the 6-digit code the app now shows").fill(app.generate());
    await theirs.getByRole("button", { name: "Turn on two-step sign-in" }).click();
    await expect(theirs.getByTestId("recovery-codes").locator("code")).toHaveCount(10);
    await intruder.close();

    // The owner resets the password from a browser of their own.
    const owner = await browser.newContext();
    const page = await owner.newPage();
    await page.goto("/forgot");
    await waitForHydration(page);
    await page.getByLabel("E-mail address").fill(email);
    await page.getByRole("button", { name: "Send me a link" }).click();
    await expect(page.getByTestId("forgot-sent")).toBeVisible();
    await page.goto(linkIn(await waitForMail(email, "Reset your Gatehouse password")));
    await waitForHydration(page);
    await page.getByLabel("New password").fill("the owner's new password");
    await page.getByRole("button", { name: "Set new password" }).click();

    // Both are listed, with when each was added, on the page and in the mail.
    await expect(page).toHaveURL(/\/reset-review$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your password has been changed");
    await expect(page.getByTestId("review-passkeys")).toContainText("Unknown key");
    await expect(page.getByTestId("review-passkeys")).toContainText("Added");
    await expect(page.getByTestId("review-second-factor")).toContainText("Two-step sign-in was turned on");
    await audit(page, "/reset-review with a passkey and two-step sign-in");
    const notice = await waitForMail(email, "Your Gatehouse password was reset");
    expect(notice.text).toContain("Passkey “Unknown key”, added");
    expect(notice.text).toContain("Two-step sign-in with an authenticator app, turned on");

    await page.getByRole("button", { name: "Remove the passkey Unknown key" }).click();
    await expect(page.getByTestId("review-no-passkeys")).toBeVisible();
    await page.getByRole("button", { name: "Turn off two-step sign-in" }).click();
    await expect(page.getByTestId("review-second-factor")).toHaveText("Two-step sign-in is off.");

    // The owner signs in with the new password alone: no code from someone else's app.
    await page.getByRole("link", { name: "Continue to sign in" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await waitForHydration(page);
    await signIn(page, email, "the owner's new password");
    await expect(page.getByTestId("viewer-email")).toHaveText(email);
    await owner.close();
  });

  test("the address is verified through the link mailed at sign-up", async ({ page }) => {
    const email = uniqueEmail("verify");
    await signUp(page, email);
    await page.goto("/account");
    await expect(page.getByTestId("email-status")).toContainText("Not verified");

    await page.goto(linkIn(await waitForMail(email, "Confirm your e-mail address")));
    await expect(page).toHaveURL(/\/verify-email$/);
    await waitForHydration(page);
    await page.getByRole("button", { name: "Confirm my address" }).click();
    await expect(page.getByTestId("link-done")).toHaveText(`Thank you: ${email} is confirmed.`);

    await page.goto("/account");
    await expect(page.getByTestId("email-status")).toContainText("Verified");
  });

  test("changing the address: password, link to the new address, notice to the old", async ({ page }) => {
    const email = uniqueEmail("old");
    const newEmail = uniqueEmail("new");
    await signUp(page, email);
    // Notices go only to a verified address (an unverified one may be a stranger's).
    await page.goto(linkIn(await waitForMail(email, "Confirm your e-mail address")));
    await waitForHydration(page);
    await page.getByRole("button", { name: "Confirm my address" }).click();
    await expect(page.getByTestId("link-done")).toHaveText(`Thank you: ${email} is confirmed.`);
    await page.goto("/account");
    await waitForHydration(page);

    await page.getByLabel("New e-mail address").fill(newEmail);
    await page.getByRole("button", { name: "Send confirmation link" }).click();
    await expect(page.getByTestId("email-notice")).toContainText("Check the inbox of your new address");
    await expect(page.getByTestId("viewer-email")).toHaveText(email);
    const asked = await waitForMail(email, "Someone asked to move your account to another address");
    expect(asked.text).toContain(newEmail);

    await page.goto(linkIn(await waitForMail(newEmail, "Confirm your new e-mail address")));
    await expect(page).toHaveURL(/\/confirm-email$/);
    await waitForHydration(page);
    await page.getByRole("button", { name: "Use this address" }).click();
    await expect(page.getByTestId("link-done")).toHaveText(`Done: your account now uses ${newEmail}.`);

    const notice = await waitForMail(email, "Your Gatehouse e-mail address was changed");
    expect(notice.text).toContain(newEmail);
    await page.goto("/account");
    await expect(page.getByTestId("viewer-email")).toHaveText(newEmail);
    await expect(page.getByTestId("email-status")).toContainText("Verified");
  });
});
