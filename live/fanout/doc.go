// Package fanout runs each distinct live subscription once per server
// instance and writes what it yields to every subscriber of it.
//
// A subscription is a GraphQL operation that lives: every event it is
// given runs its selection set and encodes a response. Ten thousand
// clients subscribed to the same document with the same variables would
// run it ten thousand times per event and encode ten thousand equal
// payloads. Here they form one group, keyed by the operation's text, its
// name, its variables and the role scope of the viewer (Key): the first
// subscriber's operation runs through gqlgen's executor as any other, and
// each response it yields is encoded once; every member then gets one
// frame made of that payload between its own prefix and suffix (the
// subscription id differs, the payload bytes are shared), queued on its
// connection without blocking (Sender). The work per event is proportional
// to the distinct subscriptions, not to the subscribers.
//
// Authorization stays per subscriber: a member is admitted by its own
// connection's authentication, rate limit and validation before it joins,
// and a group never mixes role scopes, so that what the first member's
// execution may see (the @hasRole checks of its fields) is what every
// member may see.
//
// Slow subscribers keep today's policy: a frame that finds its
// connection's buffer full is dropped for that member (and counted), and a
// member that dropped more than MaxDrops frames in a row is ended — its
// subscription completes, free to resubscribe — without slowing anyone
// else down.
//
// The package knows nothing of the wire: httpapi's WebSocket hands it a
// Sender and the frame text around the payload.
package fanout
