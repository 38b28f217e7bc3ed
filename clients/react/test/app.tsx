// A small React 19 application of @belfry/react's (its built module), for the tests in
// Chromium: the hooks' items, counts and actions as buttons, a record of arrivals, and <Inbox/>.
// window.BELFRY gives it Belfry's URL and the user's token; what it saw is kept on window.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import {
  BelfryProvider,
  Inbox,
  useInbox,
  useNotificationEvents,
  useUnreadCount,
  useUnseenCount,
} from "../dist/index.mjs";

declare global {
  interface Window {
    BELFRY: { url: string; token: string };
    seen: { arrivals: string[]; acted: unknown[]; inboxArrivals: string[]; inboxUnread: number[]; inboxStatus: string[] };
  }
}

window.seen = { arrivals: [], acted: [], inboxArrivals: [], inboxUnread: [], inboxStatus: [] };

function Counts() {
  const unread = useUnreadCount();
  const unseen = useUnseenCount();
  return (
    <p id="counts" data-unread={unread} data-unseen={unseen}>
      {unread} unread, {unseen} unseen
    </p>
  );
}

function List() {
  const inbox = useInbox();
  const inAnHour = () => new Date(Date.now() + 3600_000);
  return (
    <section id="inbox" data-status={inbox.status} data-synced={inbox.synced} data-view={inbox.view}>
      <button onClick={() => inbox.setView("inbox")}>Show the inbox</button>
      <button onClick={() => inbox.setView("archive")}>Show the archive</button>
      <button onClick={() => inbox.setView("snoozed")}>Show the snoozed</button>
      <ul>
        {inbox.items.map((n) => (
          <li key={n.id} data-id={n.id}>
            <span className="title">{n.title}</span>
            <button onClick={() => inbox.archive(n.id)}>Archive {n.title}</button>
            <button onClick={() => inbox.unarchive(n.id)}>Unarchive {n.title}</button>
            <button onClick={() => inbox.snooze(n.id, inAnHour())}>Snooze {n.title}</button>
            <button onClick={() => inbox.markRead(n.id)}>Mark {n.title} read</button>
            {n.actions.map((action) => (
              <button key={action.id} onClick={() => inbox.act(n.id, action.id).then((done) => window.seen.acted.push(done))}>
                {action.label}
              </button>
            ))}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Arrivals() {
  useNotificationEvents((notification) => window.seen.arrivals.push(notification.title));
  return null;
}

function App() {
  const { url, token } = window.BELFRY;
  return (
    <BelfryProvider url={url} getToken={() => token}>
      <Counts />
      <List />
      <Arrivals />
      <Inbox
        badge="unread"
        onNotification={(n) => window.seen.inboxArrivals.push(n.title)}
        onUnreadChange={(count) => window.seen.inboxUnread.push(count)}
        onStatus={(status) => window.seen.inboxStatus.push(status)}
      />
    </BelfryProvider>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
