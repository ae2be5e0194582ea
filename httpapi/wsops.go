package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/meridian-graphql/meridian/auth"
	"github.com/meridian-graphql/meridian/httpapi/ratelimit"
	"github.com/meridian-graphql/meridian/live/fanout"
	"github.com/meridian-graphql/meridian/platform/apperr"
)

// CodeTooManyOperations is the extensions.code of an operation refused
// because its socket already runs WSMaxOperations of them.
const CodeTooManyOperations = "TOO_MANY_OPERATIONS"

// defaultWSMaxOperations is Deps.WSMaxOperations when unset.
const defaultWSMaxOperations = 100

// wsOps holds the operations of each WebSocket to what an HTTP request is
// held to: the upgrade is one request, but a socket then carries any number
// of operations, which the HTTP middlewares never see. For both
// graphql-transport-ws and the legacy graphql-ws it
//
//   - takes a token from the caller's rate-limit bucket for every operation
//     started (subscribe / start), before the query is even parsed; the
//     caller is the one connection_init authenticated, with the key HTTP
//     requests use (callerKey);
//   - lets a socket run at most maxOps operations at once;
//   - gives queries and mutations the request timeout (subscriptions live
//     as long as the socket).
//
// A refused operation gets an error frame for its id (RATE_LIMITED with
// retryAfterSeconds, or TOO_MANY_OPERATIONS) and the socket stays open:
// graphql-transport-ws has no close code for either (its 4429 is for a
// repeated connection_init), and one refused operation need not end the
// others.
//
// It wraps the executor gqlgen's WebSocket transport hands each
// connection, so the state per socket lives and dies with the connection.
type wsOps struct {
	transport.Websocket
	fanout  *fanout.Registry   // nil: every subscription runs on its own
	limiter *ratelimit.Limiter // nil: no rate limit
	maxOps  int
	timeout time.Duration
	drain   *Drain
}

func newWSOps(d Deps, ws transport.Websocket) wsOps {
	t := wsOps{Websocket: ws, fanout: d.Fanout, limiter: d.RateLimit, maxOps: d.WSMaxOperations, timeout: d.RequestTimeout, drain: d.Drain}
	if t.fanout == nil && !d.NoFanout {
		t.fanout = fanout.New()
	}
	if t.maxOps <= 0 {
		t.maxOps = defaultWSMaxOperations
	}
	if t.timeout <= 0 {
		t.timeout = 30 * time.Second
	}
	return t
}

// Do serves one WebSocket. The connection is served on a goroutine of its
// own and the HTTP handler returns as soon as the upgrade is done: net/http
// then lets go of everything it held for the request (its buffers, its
// response writer, the handler's deep stack), which a connection living for
// hours would otherwise keep — most of what a subscriber costs in memory.
// The connection's context keeps the request's values (the caller, the
// request id) but not its cancellation, which net/http fires when the
// handler returns; it ends when the transport does.
func (t wsOps) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	s := &wsSocket{GraphExecutor: exec, ops: t, remoteAddr: r.RemoteAddr,
		live: map[context.Context]struct{}{}, refused: map[*graphql.OperationContext]*gqlerror.Error{},
		ids: map[*graphql.OperationContext]string{}}
	accepted := make(chan bool, 1)
	ws := t.Websocket
	ws.Implementation = socketConn{inner: ws.Implementation, s: s, accepted: accepted}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	r = r.WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		// Off the handler's goroutine, net/http no longer recovers a panic.
		defer func() {
			if p := recover(); p != nil {
				slog.ErrorContext(ctx, "websocket: panic; the connection is closed", "panic", p)
				s.closeConn()
			}
		}()
		// The transport's Do returns when the connection ends; until then
		// the drain holds the socket, which net/http no longer tracks once
		// hijacked.
		if t.drain != nil {
			defer t.drain.track(s)()
		}
		ws.Do(w, r, s)
	}()
	select {
	case ok := <-accepted:
		if !ok {
			<-done // the transport answers the failed upgrade on w
		}
	case <-done:
	}
}

// socketConn hands the socket its connection once accepted, for the drain
// to close it, and tells Do whether the upgrade happened.
type socketConn struct {
	inner    transport.WebsocketImplementation
	s        *wsSocket
	accepted chan<- bool
}

func (a socketConn) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := a.inner.Accept(w, r, opts)
	if err == nil {
		a.s.mu.Lock()
		a.s.conn = c
		a.s.mu.Unlock()
		a.s.closeIfIdle()
	}
	a.accepted <- err == nil
	return c, err
}

// wsSocket is the executor of one WebSocket connection.
type wsSocket struct {
	graphql.GraphExecutor
	ops        wsOps
	remoteAddr string

	mu sync.Mutex
	// pending counts operations admitted and not yet dispatched; live
	// holds the contexts of dispatched ones until they end. An operation
	// whose context is cancelled holds no slot even before its release
	// runs: the transport cancels it in its read loop on the client's
	// complete, so a subscribe read next finds the slot free.
	pending int
	live    map[context.Context]struct{}
	// refused holds the stand-in operation contexts of refused operations
	// until DispatchOperation answers them with their error.
	refused map[*graphql.OperationContext]*gqlerror.Error
	// ids holds the subscription id of each admitted operation from its
	// CreateOperationContext to its DispatchOperation, for the fan-out's
	// frames (gqlgen's executor interface does not carry it).
	ids map[*graphql.OperationContext]string
	// open counts the operations admitted (or refused) whose last frame
	// (complete or error) the transport has not yet written: it cancels
	// an operation's context only after writing it. A draining socket
	// closes when open reaches 0.
	open     int
	draining bool
	closed   bool
	conn     transport.WebsocketConn // nil until accepted
}

// CreateOperationContext admits the operation before the query is parsed.
// gqlgen's transport sends only protocol errors (parse, validation) as an
// error frame, anything else as data; so a refusal is not returned here
// but handed on, under a stand-in operation context, to DispatchOperation,
// which reports it as a subscription error (an error frame). Either way the
// transport calls DispatchOperation next for a context returned without
// errors.
func (s *wsSocket) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	if refusal := s.admit(ctx); refusal != nil {
		rc := &graphql.OperationContext{RawQuery: params.Query, OperationName: params.OperationName, Variables: params.Variables}
		s.mu.Lock()
		s.refused[rc] = refusal
		s.open++
		s.mu.Unlock()
		return rc, nil
	}
	rc, errs := s.GraphExecutor.CreateOperationContext(ctx, params)
	if errs == nil && s.ops.fanout != nil && rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
		// The transport reads the next message only after this returns:
		// the connection's last subscribe is this one.
		s.mu.Lock()
		if n, ok := s.conn.(idNoter); ok {
			s.ids[rc] = n.LastSubscribeID()
		}
		s.mu.Unlock()
	}
	if errs != nil {
		// The operation ends here: DispatchOperation is not called.
		s.mu.Lock()
		s.pending--
		s.open--
		s.mu.Unlock()
		s.closeIfIdle()
	}
	return rc, errs
}

func (s *wsSocket) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	s.mu.Lock()
	refusal, refused := s.refused[rc]
	delete(s.refused, rc)
	s.mu.Unlock()
	context.AfterFunc(ctx, s.opEnded)
	if refused {
		transport.AddSubscriptionError(ctx, refusal)
		return func(context.Context) *graphql.Response { return nil }, ctx
	}
	// The slot is freed when the stream ends, before the transport writes
	// the operation's complete frame, so that a client starting another
	// operation on seeing it is admitted; and, should the stream never
	// end (a panic), when the transport cancels ctx, which it does however
	// the operation ends.
	s.mu.Lock()
	s.pending--
	s.live[ctx] = struct{}{}
	s.mu.Unlock()
	opCtx := ctx
	release := sync.OnceFunc(func() {
		s.mu.Lock()
		delete(s.live, opCtx)
		s.mu.Unlock()
	})
	context.AfterFunc(ctx, release)
	if rc.Operation != nil && rc.Operation.Operation != ast.Subscription {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.ops.timeout)
		context.AfterFunc(ctx, cancel)
	}
	next, ctx := s.dispatch(ctx, rc)
	return func(ctx context.Context) *graphql.Response {
		resp := next(ctx)
		if resp == nil {
			release()
		}
		return resp
	}, ctx
}

// dispatch runs the operation, a subscription as a member of its fan-out
// group.
func (s *wsSocket) dispatch(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	s.mu.Lock()
	id, known := s.ids[rc]
	delete(s.ids, rc)
	conn, _ := s.conn.(frameSender)
	s.mu.Unlock()
	if s.ops.fanout == nil || !known || conn == nil || rc.Operation == nil || rc.Operation.Operation != ast.Subscription {
		return s.GraphExecutor.DispatchOperation(ctx, rc)
	}
	key, err := fanout.NewKey(rc.RawQuery, rc.OperationName, rc.Variables, string(auth.From(ctx).Role))
	if err != nil {
		return s.GraphExecutor.DispatchOperation(ctx, rc)
	}
	prefix, suffix := nextFrame(conn.Subprotocol(), id)
	h := s.ops.fanout.Join(ctx, key, fanout.Member{Conn: conn, Prefix: prefix, Suffix: suffix},
		func(gctx context.Context) (graphql.ResponseHandler, context.Context) {
			return s.GraphExecutor.DispatchOperation(gctx, rc)
		})
	return h, ctx
}

// nextFrame is the text of a data frame around its payload, as gqlgen's
// transports write it: {"payload":…,"id":"…","type":"next"} for
// graphql-transport-ws, "type":"data" for the legacy graphql-ws.
func nextFrame(protocol, id string) (prefix, suffix []byte) {
	typ := "next"
	if protocol != "graphql-transport-ws" {
		typ = "data"
	}
	quoted, _ := json.Marshal(id)
	return []byte(`{"payload":`), []byte(`,"id":` + string(quoted) + `,"type":"` + typ + `"}`)
}

// idNoter is a connection that knows the id of the last subscribe message
// it read.
type idNoter interface{ LastSubscribeID() string }

// admit takes a token from the caller's bucket and a slot on the socket,
// or says why not.
func (s *wsSocket) admit(ctx context.Context) *gqlerror.Error {
	if l := s.ops.limiter; l != nil {
		d, err := l.Allow(ctx, callerKey(auth.From(ctx), s.remoteAddr))
		// An error means the socket's context has ended: the operation is
		// going nowhere, as the HTTP middleware reasons.
		if err == nil && !d.Allowed {
			return &gqlerror.Error{Message: "rate limit exceeded", Extensions: map[string]any{
				"code": ratelimit.CodeRateLimited, "retryAfterSeconds": d.RetryAfterSeconds(),
			}}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return &gqlerror.Error{Message: "the server is shutting down: reconnect and retry", Extensions: map[string]any{
			"code": apperr.Unavailable,
		}}
	}
	n := s.pending
	for c := range s.live {
		if c.Err() == nil {
			n++
		}
	}
	if n >= s.ops.maxOps {
		return &gqlerror.Error{Message: "too many operations on this connection: end one first or open another connection", Extensions: map[string]any{
			"code": CodeTooManyOperations, "maxOperations": s.ops.maxOps,
		}}
	}
	s.pending++
	s.open++
	return nil
}

// opEnded runs once the transport has written an operation's last frame.
func (s *wsSocket) opEnded() {
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
	s.closeIfIdle()
}

// drain stops admitting operations and closes the socket once those
// running have ended (drainSubscriptions ends the subscriptions).
func (s *wsSocket) drain() {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.closeIfIdle()
}

// closeIfIdle closes a draining socket that runs no operation.
func (s *wsSocket) closeIfIdle() {
	s.mu.Lock()
	idle := s.draining && s.open == 0
	s.mu.Unlock()
	if idle {
		s.closeConn()
	}
}

// closeConn sends the close frame, once; the close handshake then ends
// the connection, and the transport's read loop with it.
func (s *wsSocket) closeConn() {
	s.mu.Lock()
	c := s.conn
	if c == nil || s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	_ = c.WriteClose(CloseServiceRestart, "server restarting")
}
