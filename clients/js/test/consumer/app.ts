// An application of the package's, type-checked against its declarations alone (as a
// consumer's tsc sees them after installing it): what it may write compiles, and each line
// under @ts-expect-error is a mistake the declarations must catch.
import {
  BelfryError,
  createBelfryClient,
  createInboxStore,
  tokenFromEndpoint,
  type BelfryClient,
  type ConnectionStatus,
  type InboxState,
  type InboxStore,
  type Notification,
} from "@belfry/client";

const byToken: BelfryClient = createBelfryClient({ url: "https://belfry.example.com/graphql", getToken: tokenFromEndpoint("/belfry-token") });
const byCookie: BelfryClient = createBelfryClient({ url: "/graphql", credentials: "include" });
const store: InboxStore = createInboxStore(byCookie, { pageSize: 50 });

const off: () => void = store.subscribe((state: InboxState) => {
  const first: Notification | undefined = state.items[0];
  const title: string | undefined = first?.title;
  const unread: number = state.unreadCount;
  console.log(title, unread, state.error?.message);
});
byToken.onStatus((status: ConnectionStatus) => console.log(status));
store.start();
store.markRead("id").catch((error: unknown) => error instanceof BelfryError && console.log(error.errors));
off();

const inbox = document.querySelector("belfry-inbox");
if (inbox) inbox.open = true;

// @ts-expect-error: credentials says how to send cookies, not whether
createBelfryClient({ credentials: true });
// @ts-expect-error: a store needs a client
createInboxStore();
// @ts-expect-error: the unread count is a number
const wrong: string = store.state.unreadCount;
// @ts-expect-error: the element's `open` is a boolean
if (inbox) inbox.open = "yes";
export { wrong };
