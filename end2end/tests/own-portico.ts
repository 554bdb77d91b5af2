// A Portico of a test file's own, reached as `localhost` (WebAuthn wants a domain name, and
// Chromium allows passkeys over plain http there), with the helpers the browser tests of
// passkeys share: browsers whose console errors fail the test, a virtual authenticator, an
// accessibility check and an app's ID token. Mail goes to the run's SMTP server
// (global-setup.ts).
import { BrowserContext, CDPSession, expect, Page, test as base } from "@playwright/test";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, waitForPort } from "../net";

export const PASSWORD = "correct horse battery staple";

export type OwnPortico = {
  url: string;
  data: string;
  children: ChildProcess[];
  cli: (args: string[], input?: string) => string;
};

/** Starts a Portico on a free port with an empty data folder of its own. */
export async function startPortico(prefix: string): Promise<OwnPortico> {
  const data = mkdtempSync(path.join(tmpdir(), prefix));
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const server = spawn(
    process.env.PORTICO_BIN!,
    [
      "--data-dir", data, "--log-level", "warn", "serve", "--listen", `127.0.0.1:${port}`, "--public-url", url,
      "--site-root", process.env.PORTICO_SITE_ROOT!, "--smtp-host", "127.0.0.1", "--smtp-port", process.env.PORTICO_SMTP_PORT!,
      "--smtp-tls", "none", "--mail-retry-seconds", "1",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  await waitForPort(port);
  const cli = (args: string[], input = "") =>
    execFileSync(process.env.PORTICO_BIN!, ["--data-dir", data, ...args], { input }).toString();
  return { url, data, children: [server], cli };
}

export function stopPortico(portico: OwnPortico) {
  for (const child of portico.children) child.kill("SIGTERM");
  rmSync(portico.data, { recursive: true, force: true });
}

/** An app of `tenant` that signs in with Portico: the example app (examples/rp), started on
 * a free port. Returns its address and its client. */
export async function startApp(portico: OwnPortico, tenant: string, name: string) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  portico.cli(["app", "create", "--tenant", tenant, "--name", name, "--launch-url", `${url}/`]);
  portico.cli(["app", "sign-in", "--tenant", tenant, "--app", name, "--redirect-uri", `${url}/callback`]);
  const client = JSON.parse(portico.cli(["app", "secret", "--tenant", tenant, "--app", name, "--json"]));
  const discovery = await (await fetch(`${portico.url}/${tenant}/v2.0/.well-known/openid-configuration`)).json();
  portico.children.push(spawn(process.env.PORTICO_RP_BIN!, [], {
    env: { ...process.env, RP_LISTEN: `127.0.0.1:${port}`, RP_ISSUER: discovery.issuer, RP_CLIENT_ID: client.client_id, RP_CLIENT_SECRET: client.client_secret },
    stdio: ["ignore", "ignore", "inherit"],
  }));
  await waitForPort(port);
  return { url, tenant, clientId: client.client_id as string, clientSecret: client.client_secret as string };
}

export type App = Awaited<ReturnType<typeof startApp>>;

/** Collects what the browser reports as errors (as in portico.spec.ts). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    const text = message.text().split("\n")[0];
    // A refused request is logged by the browser; it is expected.
    if (message.type() === "error" && !text.startsWith("Failed to load resource")) errors.push(`${page.url()}: ${text}`);
  });
  page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
  return errors;
}

/** Opens a page and waits until the WebAssembly has hydrated it. */
export async function open(page: Page, url: string) {
  await page.goto(url);
  await page.locator("main[data-hydrated]").waitFor();
}

/** Gives the page's browser a (virtual) platform authenticator that verifies its user. */
export async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

/**
 * Accessibility basics of the page in view (as conditional-access.spec.ts checks them): a
 * language and a title, one level-1 heading; every field labelled, every button and link
 * named, `aria-describedby` pointing at something.
 */
/** Each person in a browser of their own: every page they open (the Wiki's too) fails the
 * test if the browser reported an error there. */
export const test = base.extend<{ newPage: () => Promise<Page> }>({
  newPage: async ({ browser }, use) => {
    const contexts: BrowserContext[] = [];
    const watched: string[][] = [];
    await use(async () => {
      const context = await browser.newContext();
      contexts.push(context);
      context.on("page", (page) => watched.push(watchErrors(page)));
      return context.newPage();
    });
    for (const context of contexts) await context.close();
    expect(watched.flat(), "errors in the browser console").toEqual([]);
  },
});

export async function expectAccessibleBasics(page: Page) {
  const found = await page.evaluate(() => {
    const problems: string[] = [];
    if (!document.documentElement.lang) problems.push("<html> has no lang");
    if (!document.title.trim()) problems.push("the page has no title");
    const main = document.querySelector("main")!;
    const h1 = main.querySelectorAll("h1").length;
    if (h1 !== 1) problems.push(`main has ${h1} h1 headings`);
    const named = (el: Element) =>
      !!(el.getAttribute("aria-label")?.trim() || el.getAttribute("aria-labelledby") || el.textContent?.trim());
    for (const el of Array.from(main.querySelectorAll<HTMLInputElement>("input:not([type=hidden]), select, textarea"))) {
      const labelled = (el.labels?.length ?? 0) > 0 && Array.from(el.labels!).some((l) => l.textContent!.trim() !== "");
      if (!labelled && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby")) problems.push(`no label: ${el.outerHTML}`);
      if (el.type === "radio" && !el.closest("fieldset")?.querySelector("legend")?.textContent?.trim())
        problems.push(`radio outside a fieldset with a legend: ${el.outerHTML}`);
    }
    for (const el of Array.from(main.querySelectorAll("button, a[href]"))) if (!named(el)) problems.push(`no name: ${el.outerHTML}`);
    for (const el of Array.from(main.querySelectorAll("[aria-describedby]")))
      for (const id of el.getAttribute("aria-describedby")!.split(/\s+/).filter(Boolean))
        if (!document.getElementById(id)) problems.push(`aria-describedby names no element "${id}": ${el.outerHTML}`);
    return problems;
  });
  expect(found, `accessibility basics of ${page.url()}`).toEqual([]);
}

/** The claims of the ID token `app` gets for the person signed in in `context`, asked
 * without a prompt (the session must satisfy the app's policies as it is). */
export async function idTokenClaims(portico: OwnPortico, app: App, context: BrowserContext): Promise<Record<string, unknown>> {
  const verifier = "a-pkce-verifier-that-is-long-enough-0123456789abcdef";
  const callback = `${app.url}/callback`;
  const asked = new URLSearchParams({
    client_id: app.clientId, redirect_uri: callback, response_type: "code", scope: "openid profile email",
    nonce: "n-1", state: "s-1", code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256",
  });
  const authorized = await context.request.get(`${portico.url}/${app.tenant}/oauth2/v2.0/authorize?${asked}`, { maxRedirects: 0 });
  expect(authorized.status()).toBe(303);
  const location = new URL(authorized.headers()["location"]);
  expect(`${location.origin}${location.pathname}`).toBe(callback);
  const tokens = await (await fetch(`${portico.url}/${app.tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString("base64")}` },
    body: new URLSearchParams({ grant_type: "authorization_code", code: location.searchParams.get("code")!, redirect_uri: callback, code_verifier: verifier }),
  })).json();
  return JSON.parse(Buffer.from(tokens.id_token.split(".")[1], "base64url").toString());
}
