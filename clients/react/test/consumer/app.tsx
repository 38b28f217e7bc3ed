// An application of @belfry/react's, type-checked against its declarations alone (as a
// consumer's tsc sees them after installing it): what it may write compiles, and each line
// under @ts-expect-error is a mistake the declarations must catch.
import { BelfryProvider, Inbox, useInbox, useNotificationEvents, useUnreadCount, useUnseenCount, type InboxTab } from "@belfry/react";
import type { Notification } from "@belfry/client";

const tabs: InboxTab[] = [{ label: "Billing", tags: ["billing"] }];

function Badge() {
  const unread: number = useUnreadCount();
  const unseen: number = useUnseenCount();
  return <span>{unseen || unread}</span>;
}

function List() {
  const { items, unreadCount, hasMore, loading, error, loadMore, markRead, archive, snooze, act, setView, setTags } = useInbox();
  useNotificationEvents((notification: Notification, { quiet }) => quiet || console.log(notification.title));
  return (
    <ul data-unread={unreadCount} aria-busy={loading} title={error?.message}>
      {items.map((n) => (
        <li key={n.id} onClick={() => markRead(n.id)}>
          {n.title}
          <button onClick={() => archive(n.id)}>Archive</button>
          <button onClick={() => snooze(n.id, new Date())}>Snooze</button>
          {n.actions.map((a) => (
            <button key={a.id} onClick={() => act(n.id, a.id)}>{a.label}</button>
          ))}
        </li>
      ))}
      {hasMore && <button onClick={() => loadMore()}>More</button>}
      <button onClick={() => setView("archive")}>Archive</button>
      <button onClick={() => setTags(["billing"])}>Billing</button>
    </ul>
  );
}

export function App() {
  return (
    <BelfryProvider url="https://belfry.example.com/graphql" tokenUrl="/belfry-token">
      <Badge />
      <List />
      <Inbox tabs={tabs} badge="unseen" theme="auto" onNotification={(n) => console.log(n.title)} />
    </BelfryProvider>
  );
}

export function OnTheCookie() {
  return (
    <BelfryProvider credentials="include">
      <Inbox locale="de" messages={{ empty: "Nichts Neues" }} />
    </BelfryProvider>
  );
}

export function Mistakes() {
  const inbox = useInbox();
  // @ts-expect-error: a view is inbox, archive or snoozed
  void inbox.setView("trash");
  // @ts-expect-error: the unread count is a number
  const count: string = useUnreadCount();
  return (
    <>
      {count}
      {/* @ts-expect-error: the badge counts unseen or unread */}
      <Inbox badge="all" />
      {/* @ts-expect-error: credentials says how to send cookies, not whether */}
      <BelfryProvider credentials={true} />
    </>
  );
}
