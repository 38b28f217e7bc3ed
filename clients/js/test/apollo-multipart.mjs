// Apollo Client subscribing to the viewer's inbox over HTTP (a multipart/mixed stream, as
// HttpLink does for subscriptions), the way a front end without websockets would.
// Usage: node apollo-multipart.mjs URL USER_TOKEN EVENTS TIMEOUT_MS
// Prints {"outcome": "received" | "timeout" | "error" | "complete", "events": [...],
// "errors": [...]} once EVENTS events came, or the stream ended, or TIMEOUT_MS passed.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';

const [url, token, wanted = '2', timeoutMs = '30000'] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node apollo-multipart.mjs URL USER_TOKEN [EVENTS] [TIMEOUT_MS]');
  process.exit(2);
}

const INBOX = gql`
  subscription Inbox {
    inbox {
      kind
      unreadCount
      notification {
        id
        title
      }
    }
  }
`;

const client = new ApolloClient({
  link: new HttpLink({ uri: url, headers: { authorization: `Bearer ${token}` } }),
  cache: new InMemoryCache(),
});

const events = [];
const errors = [];
const outcome = await new Promise((resolve) => {
  const timer = setTimeout(() => resolve('timeout'), Number(timeoutMs));
  const finish = (how) => {
    clearTimeout(timer);
    resolve(how);
  };
  const subscription = client.subscribe({ query: INBOX }).subscribe({
    next(result) {
      if (result.error) errors.push(String(result.error.message ?? result.error));
      if (result.data) events.push(result.data.inbox);
      if (events.length >= Number(wanted)) {
        subscription.unsubscribe();
        finish('received');
      }
    },
    error(error) {
      errors.push(String(error?.message ?? error));
      finish('error');
    },
    complete() {
      finish('complete');
    },
  });
});

console.log(JSON.stringify({ outcome, events, errors }));
client.stop();
process.exit(0);
