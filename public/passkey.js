// Passkeys (WebAuthn): Portico accounts' and passkeys as second factors. Passkeys exist
// only in the browser's JavaScript, so this small script shows the passkey buttons where the browser can use
// them, runs a ceremony between Portico's two server functions (`/fn/passkey/begin` and
// `/fn/passkey/finish`) and the authenticator, and then goes where Portico says.
(() => {
  "use strict";

  const decode = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  };
  const encode = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  // Calls a server function with a form body; says what went wrong in Portico's words.
  async function call(endpoint, form) {
    const response = await fetch(`/fn/${endpoint}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams(form),
    });
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    if (!response.ok) {
      let message = "Portico could not do that. Try again.";
      if (typeof body === "object" && body !== null) {
        const value = Object.values(body)[0];
        message = Array.isArray(value) ? value.map((f) => f.message).join(" ") : String(value);
      }
      throw new Error(message);
    }
    return body;
  }

  async function register(options) {
    const publicKey = options.publicKey;
    publicKey.challenge = decode(publicKey.challenge);
    publicKey.user.id = decode(publicKey.user.id);
    for (const c of publicKey.excludeCredentials ?? []) c.id = decode(c.id);
    const made = await navigator.credentials.create({ publicKey });
    return {
      id: made.id,
      rawId: encode(made.rawId),
      type: made.type,
      response: {
        attestationObject: encode(made.response.attestationObject),
        clientDataJSON: encode(made.response.clientDataJSON),
      },
      extensions: made.getClientExtensionResults(),
    };
  }

  async function authenticate(options) {
    const publicKey = options.publicKey;
    publicKey.challenge = decode(publicKey.challenge);
    for (const c of publicKey.allowCredentials ?? []) c.id = decode(c.id);
    const used = await navigator.credentials.get({ publicKey });
    return {
      id: used.id,
      rawId: encode(used.rawId),
      type: used.type,
      response: {
        authenticatorData: encode(used.response.authenticatorData),
        clientDataJSON: encode(used.response.clientDataJSON),
        signature: encode(used.response.signature),
        userHandle: used.response.userHandle ? encode(used.response.userHandle) : null,
      },
      extensions: used.getClientExtensionResults(),
    };
  }

  function humane(error) {
    if (error && error.name === "NotAllowedError") return "The passkey was not used (cancelled or timed out). Try again, or use the other way below.";
    if (error && error.name === "InvalidStateError") return "This device has a passkey for this account already.";
    return error && error.message ? error.message : "Something went wrong with the passkey.";
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-passkey]");
    if (!button) return;
    event.preventDefault();
    const status = document.getElementById(button.dataset.status);
    const purpose = button.dataset.passkey;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    status.textContent = "Waiting for your passkey…";
    try {
      // A new second factor's name comes from the field the button names.
      const nameField = button.dataset.nameField ? document.getElementById(button.dataset.nameField) : null;
      const name = nameField ? nameField.value : "";
      const begun = await call("passkey/begin", { purpose, email: button.dataset.email ?? "", next: button.dataset.next ?? "", name });
      const options = JSON.parse(begun.options);
      // Options that name a user make a passkey; the others ask for one.
      const credential = options.publicKey.user ? await register(options) : await authenticate(options);
      status.textContent = "Checking…";
      const next = await call("passkey/finish", { ceremony: begun.ceremony, credential: JSON.stringify(credential) });
      window.location.assign(next);
    } catch (error) {
      status.textContent = humane(error);
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });

  // Show the passkey buttons (rendered hidden) where the browser has passkeys. Pages come
  // and go without reloads, so new ones are looked for as they appear.
  function reveal() {
    if (!window.PublicKeyCredential) return;
    for (const box of document.querySelectorAll("[data-passkey-box][hidden]")) box.hidden = false;
  }
  reveal();
  new MutationObserver(reveal).observe(document.documentElement, { childList: true, subtree: true });
})();
