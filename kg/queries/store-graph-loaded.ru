# Record that a graph's upload completed.
INSERT DATA { GRAPH <https://w3id.org/threatkg/graph/registry> { $graph a tm:LoadedGraph ; tm:digest $digest } }
