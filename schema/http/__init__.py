"""GraphQL over HTTP (graphql.github.io/graphql-over-http): how requests are read, which media type
and status answer them, and the middleware every request passes through."""
