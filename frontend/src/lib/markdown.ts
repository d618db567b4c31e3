import type { List, ListItem, Parent, Root } from "mdast";

/** Whether a list item says nothing: no text, or only lists whose items say nothing ("+", "+ +"). */
function isEmptyItem(item: ListItem): boolean {
  return item.children.every((child) => child.type === "list" && child.children.every(isEmptyItem));
}

function dropEmptyItems(parent: Parent): void {
  parent.children = parent.children.filter((child) => {
    if (child.type === "list") {
      const list = child as List;
      list.children = list.children.filter((item) => !isEmptyItem(item));
      return list.children.length > 0;
    }
    return true;
  });
  for (const child of parent.children) if ("children" in child) dropEmptyItems(child as Parent);
}

/**
 * Remark plugin: drops list items with nothing in them. A line of an answer that is only "+"
 * (or "+ +", "- +") is a bullet with no text in Markdown, drawn as an empty (double) bullet.
 */
export function remarkDropEmptyListItems() {
  return (tree: Root) => {
    dropEmptyItems(tree);
  };
}
