// Package gqlhttp makes the GraphQL endpoint follow the GraphQL-over-HTTP
// specification (https://graphql.github.io/graphql-over-http/draft/) where
// gqlgen's transports do not: it sits in front of the endpoint's handler
// chain and owns everything HTTP-level about a GraphQL request, leaving the
// execution to gqlgen.
//
// What it does, in the order a request meets it:
//
//   - WebSocket upgrades pass through untouched (they are not
//     GraphQL-over-HTTP and authenticate in connection_init).
//   - CORS: preflights from allowed origins are answered here with 204,
//     from other origins with 403; responses to allowed origins carry
//     Access-Control-Allow-Origin. An empty Config allows no origin.
//   - Methods: GET and POST carry GraphQL, OPTIONS is answered with Allow,
//     anything else is 405 with Allow: GET, POST, OPTIONS.
//   - POST bodies must be application/json in UTF-8 (415 otherwise).
//     POSTs that ask for text/event-stream go to gqlgen's SSE transport
//     untouched, since their answer is a stream.
//   - Accept picks application/graphql-response+json or application/json;
//     a client that accepts neither gets 406.
//   - The request must be a well-formed GraphQL-over-HTTP request (a JSON
//     object with a string query, an object or null for variables and
//     extensions, a string or null operationName; the same for GET's URL
//     parameters), or it is answered 400 before anything executes.
//   - The status code of gqlgen's answer is set by the spec's rules for the
//     chosen media type: under application/graphql-response+json a request
//     error (no data) is 400 and anything with data is 200, except that a
//     request a store outage failed whole (data null, every error
//     SERVICE_UNAVAILABLE) is 503 with Retry-After; under application/json
//     every well-formed request is 200. A mutation sent with GET is 405
//     with Allow: POST.
//
// Answers that did not come from gqlgen's GraphQL execution — the 401, 413
// and 429 of the middlewares between this handler and gqlgen, or any status
// other than 200, 400 and 422 — pass through unchanged.
package gqlhttp
