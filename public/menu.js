// The person's menu in the header is a <details>: it opens and closes without JavaScript.
// With it, the menu also closes as menus do: on Escape (the focus going back to the
// menu's button) and on a click outside it.
(() => {
  "use strict";
  const open = () => Array.from(document.querySelectorAll("details.profile[open]"));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const menu of open()) {
      menu.open = false;
      menu.querySelector("summary")?.focus();
    }
  });
  document.addEventListener("click", (event) => {
    for (const menu of open()) if (!menu.contains(event.target)) menu.open = false;
  });
})();
