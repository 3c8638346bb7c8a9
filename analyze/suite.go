package analyze

// Suite is every check modsniff runs, in cause order: of two equally
// severe findings the one whose check comes first is shown first, so a
// cause (the foreign issuer, the expired certificate) precedes the symptom
// it produced (the alert the client sent because of it). A new check is
// declared in its own file and listed here at its place.
var Suite = []*Check{
	checkInputDamaged,

	checkDNSUnreachable,
	checkDNSTimeout,
	checkDNSErrorRcode,
	checkDNSForgedIP,
	checkDNSInjectedAnswer,
	checkDNSBogonAnswer,
	checkDNSFakeIP,
	checkDNSSearchSuffix,

	checkProxyConnectFailed,
	checkTCPResetAfterHello,
	checkTLSLargeHelloDropped,

	checkTLSForeignIssuer,
	checkTLSHostnameMismatch,
	checkTLSExpired,
	checkTLSVersionDowngrade,
	checkTLSALPNDowngrade,
	checkTLSClassicalKeyShare,

	checkTLSClientRejected,
	checkTLSAlert,
	checkH2Goaway,
	checkHTTPErrorStatus,
	checkTCPConnectRefused,
	checkTCPConnectTimeout,
	checkTLSCertHidden,
}
