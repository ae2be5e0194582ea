// Meridian's GraphiQL: the IDE, its explorer plugin and the history plugin,
// talking to this server's /query over HTTP and, for subscriptions, over
// graphql-transport-ws on the same path (graphql-ws). Everything it needs is
// in this bundle: nothing is fetched from another origin.
import './workers.js';

import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';

import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './style.css';
import { storage } from './storage.js';

const ws = location.protocol === 'https:' ? 'wss:' : 'ws:';
// The toolkit sends the headers editor's headers (an Authorization: Bearer
// API key, say) as the connection_init payload of each subscription, which
// is where Meridian authenticates a WebSocket.
const fetcher = createGraphiQLFetcher({
  url: '/query',
  subscriptionUrl: `${ws}//${location.host}/query`,
});

const defaultQuery = `# Meridian's GraphQL API. Run with Ctrl-Enter (Cmd-Enter on a Mac).
# An API key goes in Headers below: {"Authorization": "Bearer mrd_…"}
{
  countries(first: 3) {
    edges {
      node {
        code
        name
      }
    }
  }
}
`;

const plugins = [HISTORY_PLUGIN, explorerPlugin()];

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, { fetcher, plugins, defaultQuery, storage }),
);
