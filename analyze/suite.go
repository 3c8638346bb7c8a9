package analyze

// Suite is every check modsniff runs, in cause order: of two equally
// severe findings the one whose check comes first is shown first, so a
// cause (the foreign issuer, the expired certificate) precedes the symptom
// it produced (the alert the client sent because of it). A new check is
// declared in its own file and listed here at its place.
var Suite = []*Check{
	checkInputDamaged,
	checkCaptureOneSided,

	checkDNSUnreachable,
	checkDNSTimeout,
	checkDNSErrorRcode,
	checkDNSForgedIP,
	checkDNSInjectedAnswer,
	checkDNSBogonAnswer,
	checkDNSFakeIP,
	checkDNSAnswerMismatch,
	checkDNSNAT64Unreachable,
	checkDNSSearchSuffix,

	checkProxyPACRequired,
	checkProxyBypassed,
	checkProxyConnectFailed,
	checkSOCKSLocalDNS,
	checkTCPIPv6Broken,
	checkTCPPMTUBlackhole,
	checkTLSNotTLS,
	checkTCPResetAfterHello,
	checkTLSLargeHelloDropped,
	checkTCPResetMidTransfer,
	checkVCSUnreachable,
	checkGoproxyRedirectBlocked,
	checkTLSClockSkew,

	checkTLSForeignIssuer,
	checkTLSHostnameMismatch,
	checkTLSExpired,
	checkTLSGoPolicy,
	checkTLSVersionDowngrade,
	checkTLSALPNDowngrade,
	checkTLSClassicalKeyShare,

	checkTLSClientTrustStore,
	checkTLSClientRejected,
	checkTLSAlert,
	checkH2Goaway,
	checkH2StreamReset,
	checkHTTPNotModuleContent,
	checkHTTPBodyTruncated,
	checkGoproxyPrivatePath,
	checkHTTPErrorStatus,
	checkTCPConnectRefused,
	checkTCPConnectTimeout,
	checkTLSCertHidden,
}
