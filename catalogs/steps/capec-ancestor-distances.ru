# For the active patterns without own categories: each tm:childOf ancestor at its distance
# (parents 1, grandparents 2, ...), as [] tm:pattern ?p ; tm:ancestor ?a ; tm:distance ?d in the
# scratch graph. Run again until it adds nothing, each run adds the next level: a breadth-first
# search, since a SPARQL property path gives reachability but not the shortest distance.
INSERT { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
  [] tm:pattern ?pattern ; tm:ancestor ?ancestor ; tm:distance 1 } }
WHERE {
  SELECT DISTINCT ?pattern ?ancestor WHERE {
    GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> { ?g tm:catalog "capec" }
    GRAPH ?g {
      ?pattern a tm:AttackPattern ; tm:childOf ?ancestor
      FILTER NOT EXISTS { ?pattern a tm:DeprecatedEntry } }
    FILTER (?ancestor != ?pattern)
    FILTER NOT EXISTS { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
      { ?pattern tm:ownCategory ?category } UNION { ?known tm:pattern ?pattern ; tm:ancestor ?ancestor } } }
  }
} ;
INSERT { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
  [] tm:pattern ?pattern ; tm:ancestor ?ancestor ; tm:distance ?next } }
WHERE {
  SELECT DISTINCT ?pattern ?ancestor ?next WHERE {
    GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
      ?g tm:catalog "capec" .
      ?step tm:pattern ?pattern ; tm:ancestor ?between ; tm:distance ?distance }
    GRAPH ?g { ?between tm:childOf ?ancestor }
    FILTER (?ancestor != ?pattern)
    FILTER NOT EXISTS { GRAPH <https://w3id.org/threatkg/graph/catalogs/steps> {
      ?known tm:pattern ?pattern ; tm:ancestor ?ancestor } }
    BIND (?distance + 1 AS ?next)
  }
}
