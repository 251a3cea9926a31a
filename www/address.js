// The address follows the view on screen (share.js). The sections say when their part of the
// view changed; app.js links the address to the page (landing.js reads and applies views) once
// every module is loaded, which keeps the sections from importing the landing module.

let link = null;

export function setLink(linked) {
  link = linked;
}

/** A view changed: a new history entry, or with { replace: true } the current one. */
export function viewChanged(options) {
  link.update(options);
}
