package httpapi

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// CloseServiceRestart is the WebSocket close code a draining server ends
// its sockets with (RFC 6455 §7.4, IANA registry: 1012 Service Restart).
// Not 1001 Going Away: a SIGTERM is a rolling deploy or a scale-down with
// other instances left behind the load balancer, and 1012 tells a client
// exactly that the service is restarting and a reconnect (with backoff)
// will reach a live instance; graphql-ws and Apollo's clients retry both.
const CloseServiceRestart = 1012

// Drain is the HTTP surface's part of a graceful shutdown. http.Server's
// Shutdown stops accepting and waits for the requests in flight, but it
// neither ends streams (a subscription never finishes by itself) nor waits
// for hijacked connections (every WebSocket). Once Begin is called:
//
//   - /readyz answers 503, so that a load balancer stops sending;
//   - every subscription ends as if its source had: SSE sends its
//     "complete" event, a WebSocket a complete frame per operation;
//   - a WebSocket refuses new operations (SERVICE_UNAVAILABLE), lets its
//     queries and mutations finish, and closes with CloseServiceRestart
//     once its last operation has ended;
//   - Wait tells when every WebSocket is closed.
//
// Requests other than streams are not touched: the server lets them run
// to their end within its grace period.
type Drain struct {
	ctx   context.Context // ends when the drain begins
	begin context.CancelFunc
	// unready is set by Unready: /readyz says 503 while everything is
	// still served, until Begin.
	unready atomic.Bool

	mu    sync.Mutex
	socks map[*wsSocket]struct{}
	gone  chan struct{} // signalled when a socket ends
}

// NewDrain returns a Drain that has not begun.
func NewDrain() *Drain {
	ctx, cancel := context.WithCancel(context.Background())
	return &Drain{ctx: ctx, begin: cancel, socks: map[*wsSocket]struct{}{}, gone: make(chan struct{}, 1)}
}

// Begin starts draining; calling it again does nothing.
func (d *Drain) Begin() { d.begin() }

// Draining reports whether Begin was called.
func (d *Drain) Draining() bool { return d.ctx.Err() != nil }

// Unready makes /readyz answer 503 before the drain begins, while the
// server still serves everything: the time a load balancer needs to
// notice and stop sending (MERIDIAN_SHUTDOWN_DELAY).
func (d *Drain) Unready() { d.unready.Store(true) }

// Ready reports whether /readyz may say the server is ready: neither
// Unready nor Begin was called.
func (d *Drain) Ready() bool { return !d.unready.Load() && !d.Draining() }

// Sockets is the number of WebSockets open.
func (d *Drain) Sockets() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.socks)
}

// Wait returns once every WebSocket has closed, or when ctx ends; then it
// sends the close frame to the sockets left (their operations still
// running past the grace period) and returns how many there were.
func (d *Drain) Wait(ctx context.Context) (left int) {
	for {
		d.mu.Lock()
		n := len(d.socks)
		d.mu.Unlock()
		if n == 0 {
			return 0
		}
		select {
		case <-d.gone:
		case <-ctx.Done():
			d.mu.Lock()
			socks := make([]*wsSocket, 0, len(d.socks))
			for s := range d.socks {
				socks = append(socks, s)
			}
			d.mu.Unlock()
			for _, s := range socks {
				s.closeConn()
			}
			return len(socks)
		}
	}
}

// track registers the socket for the life of its connection; a socket
// opened after Begin (a handshake racing the listener's close) drains at
// once. The returned function unregisters it.
func (d *Drain) track(s *wsSocket) (untrack func()) {
	d.mu.Lock()
	d.socks[s] = struct{}{}
	d.mu.Unlock()
	stop := context.AfterFunc(d.ctx, s.drain)
	return func() {
		stop()
		d.mu.Lock()
		delete(d.socks, s)
		d.mu.Unlock()
		select {
		case d.gone <- struct{}{}:
		default:
		}
	}
}

// drainSubscriptions ends every subscription when the drain begins, over
// any transport: it cancels the context the subscription's resolver and
// its response stream run under, and the transports take that as the end
// of the stream (SSE writes "event: complete", the WebSocket transports a
// complete frame), unlike a cancelled request or connection, which they
// cut without one.
type drainSubscriptions struct{ d *Drain }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = drainSubscriptions{}

func (drainSubscriptions) ExtensionName() string                   { return "DrainSubscriptions" }
func (drainSubscriptions) Validate(graphql.ExecutableSchema) error { return nil }
func (x drainSubscriptions) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if x.d == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(x.d.ctx, cancel)
	// The operation's own end (its transport cancels its context) also
	// ends ctx; then the drain need not hold on to it.
	context.AfterFunc(ctx, func() { stop() })
	return next(ctx)
}
