// Apollo Client's own persisted-queries link against a running videolib server.
//
//   node apq.mjs http://127.0.0.1:8000/graphql [--accept MEDIA] [--get]
//
// Runs the same named query twice (fetchPolicy 'network-only', so both go to the server) through
// createPersistedQueryLink({ sha256 }).concat(new HttpLink({ uri, fetch })), with fetch wrapped to
// record every request and response. Prints one JSON object on stdout:
//   { apolloClient, options, requests: [{ method, url, accept, params, body, status, contentType,
//     response }], results: [{ data } | { error }] }
// --accept sets the Accept header HttpLink sends (Apollo Client 3 sends */* by default);
// --get turns on useGETForHashedQueries, so hash-only requests go out as GET.
// tests/test_apollo_client.py runs it; the exit status is 0 whenever the JSON could be printed.

import { createHash } from "node:crypto";
import { parseArgs } from "node:util";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { version } from "@apollo/client/version.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    accept: { type: "string" },
    get: { type: "boolean", default: false },
    first: { type: "string", default: "5" },
  },
});
const [uri] = positionals;
if (!uri) {
  console.error("usage: node apq.mjs <graphql url> [--accept MEDIA] [--get] [--first N]");
  process.exit(2);
}

const QUERY = gql`
  query ApqShelf($first: Int!) {
    categories {
      name
    }
    videos(first: $first) {
      totalCount
      edges {
        node {
          title
        }
      }
    }
  }
`;

const requests = [];

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// Records what HttpLink hands to fetch and what came back, then gives HttpLink the response.
async function recordingFetch(input, init = {}) {
  const url = new URL(typeof input === "string" ? input : input.url);
  const headers = new Headers(init.headers);
  const params = {};
  for (const [key, value] of url.searchParams) {
    params[key] = key === "query" ? value : parseJson(value);
  }
  const entry = {
    method: (init.method ?? "GET").toUpperCase(),
    url: url.pathname + url.search,
    accept: headers.get("accept"),
    params,
    body: typeof init.body === "string" ? JSON.parse(init.body) : null,
  };
  requests.push(entry);
  const response = await fetch(input, init);
  entry.status = response.status;
  entry.contentType = response.headers.get("content-type");
  entry.response = parseJson(await response.clone().text());
  return response;
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

const link = createPersistedQueryLink({ sha256, useGETForHashedQueries: values.get }).concat(
  new HttpLink({
    uri,
    fetch: recordingFetch,
    headers: values.accept ? { accept: values.accept } : {},
  }),
);
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const results = [];
for (let i = 0; i < 2; i++) {
  try {
    const result = await client.query({
      query: QUERY,
      variables: { first: Number(values.first) },
      fetchPolicy: "network-only",
    });
    results.push({ data: result.data, errors: result.errors ?? null });
  } catch (error) {
    results.push({
      error: {
        name: error.name,
        message: error.message,
        statusCode: error.networkError?.statusCode ?? null,
        graphQLErrors: error.graphQLErrors ?? [],
      },
    });
  }
}
client.stop();

console.log(
  JSON.stringify({
    apolloClient: version,
    options: { accept: values.accept ?? null, useGETForHashedQueries: values.get },
    requests,
    results,
  }),
);
