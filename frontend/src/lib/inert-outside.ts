/**
 * Makes everything on the page except `element` (and its ancestors) inert: it can neither be
 * focused nor clicked, and assistive technology ignores it, as behind a modal dialog.
 * Returns the function that undoes it (elements that were inert already stay so).
 */
export function inertOutside(element: HTMLElement): () => void {
  const madeInert: HTMLElement[] = [];
  for (let node: HTMLElement | null = element; node && node !== document.body; node = node.parentElement) {
    for (const sibling of node.parentElement?.children ?? []) {
      if (sibling === node || !(sibling instanceof HTMLElement) || sibling.hasAttribute("inert")) continue;
      sibling.setAttribute("inert", "");
      madeInert.push(sibling);
    }
  }
  return () => {
    for (const sibling of madeInert) sibling.removeAttribute("inert");
  };
}
