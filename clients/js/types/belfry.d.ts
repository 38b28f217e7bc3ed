// The package's types: every export of src/index.js (declarations generated from the JSDoc
// beside this file in dist/types), and what JSDoc cannot say: that importing the package
// registers <belfry-inbox>, so the DOM's lookups by tag name know its class.
import type { BelfryInboxElement } from "./inbox-element.js";

export * from "./index.js";

declare global {
  interface HTMLElementTagNameMap {
    "belfry-inbox": BelfryInboxElement;
  }
}
