import { test, expect, type CDPSession, type Page } from "@playwright/test";
import { signUp, uniqueEmail, waitForHydration } from "./helpers";

// Passkeys in Chromium with its virtual authenticator (CDP WebAuthn domain): a platform
// authenticator with resident keys and user verification, whose signatures the server
// verifies for real. Browsers refuse an IP address as a relying-party id, so these
// pages are at http://localhost:PORT (the suite's base URL).

interface Authenticator {
  cdp: CDPSession;
  id: string;
}

async function addAuthenticator(page: Page): Promise<Authenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await waitForHydration(page);
}

test("add a passkey, sign out, sign in with it alone, see the session, remove it", async ({ page }) => {
  const authenticator = await addAuthenticator(page);
  const email = uniqueEmail("passkey");
  await signUp(page, email);

  await page.goto("/account");
  await waitForHydration(page);
  await expect(page.getByTestId("no-passkeys")).toBeVisible();
  await page.getByLabel("Name (optional)").fill("Test laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByText("Passkey “Test laptop” added")).toBeVisible();
  await expect(page.getByTestId("passkey-list")).toContainText("Test laptop");
  await expect(page.getByTestId("passkey-list")).toContainText("not used yet");
  // A discoverable credential, made for this site and this account.
  const { credentials } = await authenticator.cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator.id });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);
  expect(credentials[0].rpId).toBe("localhost");

  // Signed out, no address typed: the login page offers the passkey in the e-mail
  // field's autofill (conditional UI), which the virtual authenticator picks at once,
  // so the login page may be gone before a check of its address could see it.
  const passkeySignIn = page.waitForResponse((r) => r.url().endsWith("/api/passkeys/sign_in_finish"));
  await page.getByRole("button", { name: "Sign out" }).click();
  expect((await passkeySignIn).ok()).toBe(true);
  await expect(page.getByTestId("viewer-email")).toHaveText(email);

  // A device session like any other, which says how it signed in.
  await page.goto("/devices");
  await expect(page.getByTestId("sign-in-method").first()).toHaveText("passkey");
  await page.goto("/activity");
  await expect(page.getByText("Passkey added")).toBeVisible();

  // Removing it needs no password right after a passkey sign-in (a fresh proof).
  await page.goto("/account");
  await waitForHydration(page);
  await expect(page.getByTestId("passkey-list")).toContainText("last used");
  await page.getByRole("button", { name: "Remove the passkey Test laptop" }).click();
  await expect(page.getByTestId("no-passkeys")).toBeVisible();

  // The authenticator still holds it, but it no longer signs in: a clear message.
  await signOut(page);
  await expect(page.getByRole("alert")).toContainText("That passkey did not work");
  await expect(page.getByTestId("viewer-email")).toHaveCount(0);
});

test("the passkey button signs in, and skips the code step of two-step sign-in", async ({ page }) => {
  const authenticator = await addAuthenticator(page);
  const email = uniqueEmail("passkey-2fa");
  await signUp(page, email);
  await page.goto("/account");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByTestId("passkey-list").locator("li")).toHaveCount(1);

  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(page.getByTestId("totp-secret")).toBeVisible();
  const secret = (await page.getByTestId("totp-secret").textContent())!.replace(/ /g, "");
  const OTPAuth = await import("otpauth");
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" });
  await page.getByLabel("Enter the 6-digit code the app now shows").fill(totp.generate());
  await page.getByRole("button", { name: "Turn on two-step sign-in" }).click();
  await expect(page.getByTestId("second-factor-status")).toContainText("On");

  // The virtual authenticator would answer the login page's autofill offer at once.
  // So it holds no passkey while that offer starts (the offer then waits for the user),
  // and gets it back before the button asks in a dialog.
  const held = await authenticator.cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator.id });
  await authenticator.cdp.send("WebAuthn.clearCredentials", { authenticatorId: authenticator.id });
  const offered = page.waitForResponse((r) => r.url().endsWith("/api/passkeys/sign_in_begin"));
  await signOut(page);
  await expect(page.getByLabel("E-mail address")).toHaveAttribute("autocomplete", "username webauthn");
  expect((await offered).ok()).toBe(true);
  // The page then hands the options to navigator.credentials.get, which nothing outside
  // the page reports: a moment's grace before the passkey comes back.
  await page.waitForTimeout(500);
  for (const credential of held.credentials) {
    await authenticator.cdp.send("WebAuthn.addCredential", { authenticatorId: authenticator.id, credential });
  }
  await page.waitForTimeout(500);
  await expect(page.getByTestId("viewer-email")).toHaveCount(0);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page.getByTestId("viewer-email")).toHaveText(email);
  await expect(page).not.toHaveURL(/sign-in-code/);
});

test("a closed passkey prompt changes nothing and says so", async ({ page }) => {
  const authenticator = await addAuthenticator(page);
  const email = uniqueEmail("passkey-cancel");
  await signUp(page, email);
  await page.goto("/account");
  await waitForHydration(page);
  // The user refuses the prompt (no user verification): nothing is added.
  await authenticator.cdp.send("WebAuthn.setUserVerified", { authenticatorId: authenticator.id, isUserVerified: false });
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByTestId("no-passkeys")).toBeVisible();
});

test("at another address than PUBLIC_URL the account page points to the right one", async ({ page }) => {
  // This server listens on 127.0.0.1 and its PUBLIC_URL is the default, localhost.
  const elsewhere = process.env.E2E_SUDO_URL!;
  await signUp(page, uniqueEmail("passkey-elsewhere"), elsewhere);
  await page.goto(`${elsewhere}/account`);
  await waitForHydration(page);
  const notice = page.getByTestId("passkeys-elsewhere");
  await expect(notice).toContainText("Passkeys work only at http://localhost:");
  await expect(page.getByRole("button", { name: "Add a passkey" })).toBeHidden();
  // The login page there shows no passkey error of its own accord.
  await page.getByRole("button", { name: "Sign out" }).click();
  await waitForHydration(page);
  await page.waitForTimeout(500);
  await expect(page.getByRole("alert")).toHaveCount(0);
});
