# Coverage work graph: mark each (element, threat) pair addressed by a requirement the element may
# count on (profile or implemented) that addresses the threat, or by a control covering the element
# that mitigates the threat or one of the pair's STRIDE categories.
INSERT { ?pair tm:addressedBy ?by }
WHERE {
  ?pair tm:element ?element ; tm:threat ?threat .
  { ?element tm:mayUse ?by . ?by tm:addresses ?threat }
  UNION { ?element tm:coveredBy ?by . ?by tm:mitigates ?threat }
  UNION { ?element tm:coveredBy ?by . ?by tm:mitigates ?category . ?pair tm:category ?category }
}
