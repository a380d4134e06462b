# Input is untrusted when it comes from a less trusted zone (tm:trustLevel of the zones' kinds),
# judged per direction: a bidirectional flow delivers to each end, and only the end in the more
# trusted zone receives untrusted input. The boundary named is the crossing in that direction.
INSERT { ?receiver tm:receivesInputAcross ?boundary . ?boundary a tm:InboundBoundary }
WHERE {
  ?flow tm:crosses ?boundary . ?boundary tm:fromZone ?from ; tm:toZone ?to .
  { ?flow tm:target ?receiver ; tm:source/tm:inZone ?from . ?receiver tm:inZone ?to }
  UNION { ?flow tm:bidirectional true ; tm:source ?receiver ; tm:target/tm:inZone ?from . ?receiver tm:inZone ?to }
  ?from a ?fromKind . ?fromKind tm:trustLevel ?fromLevel .
  ?to a ?toKind . ?toKind tm:trustLevel ?toLevel .
  FILTER(?fromLevel < ?toLevel)
}
