// Package config loads, defaults and validates govbus's one YAML
// configuration file (DESIGN.md §5). Load does it all in one pass and
// returns every problem with its YAML path and line.
package config

// Config is the whole configuration of a node.
type Config struct {
	// Node names this govbus node in logs and the message log. Default "govbus".
	Node string `yaml:"node"`
	// Demo marks the demo world (deploy/demo): only then may the message
	// log's subject key be the published DemoSubjectKey, which anyone can
	// use to hash guessed ids and match them against a stolen log. Default
	// false.
	Demo      bool      `yaml:"demo"`
	Listeners Listeners `yaml:"listeners"`
	// PublicURL is the base URL at which consumers reach the consumer API,
	// e.g. https://govbus.example.gov.ua; getWsdl points a WSDL's
	// soap:address there (never at the Host a consumer sent). An absolute
	// http(s) URL without query or credentials. Default
	// http://<listeners.consumer.address> (see ConsumerURL).
	PublicURL string `yaml:"public_url"`
	// Members are the organisations of the directory (listClients).
	Members    []Member   `yaml:"members"`
	Registries []Registry `yaml:"registries"`
	Clients    []Client   `yaml:"clients"`
	// AuthThrottle limits failed consumer authentications per source
	// address (clientauth.go). Defaults: burst 10, 1 per second, 10000
	// addresses.
	AuthThrottle AuthThrottle `yaml:"auth_throttle"`
	// Groups name sets of clients, used in rules as "group:NAME".
	Groups map[string][]string `yaml:"groups"`
	// Rules are the policy rules; whatever no rule allows is denied.
	Rules []Rule `yaml:"rules"`
	// Tracing configures span export (OTEL_* variables override it).
	Tracing Tracing `yaml:"tracing"`
	// MessageLog configures the tamper-evident message log.
	MessageLog MessageLog `yaml:"message_log"`
	// Tracker limits the Data Tracker's calls and pages (tracker.go).
	// Defaults: 5 calls a second per client, burst 10; pages of at most 100.
	Tracker Tracker `yaml:"tracker"`
	// WatchConfig reloads the configuration when its file changes (checked
	// every second), besides SIGHUP and POST /admin/reload. Default false.
	WatchConfig bool `yaml:"watch_config"`
	// Admins are the operators allowed on the admin listener (see
	// admins.go). Default none: every admin request but GET /admin/status
	// is refused.
	Admins []Admin `yaml:"admins"`

	// Dir is the directory of the file; relative file names resolve there.
	Dir string `yaml:"-"`
	// Version is a hash of the file's contents.
	Version string `yaml:"-"`
}

// Listeners are the node's three listeners and the consumer server's limits.
type Listeners struct {
	// Consumer serves the consumer API. Default address 127.0.0.1:8080.
	Consumer Listener `yaml:"consumer"`
	// ConsumerTLS, when set, serves the consumer API over TLS as well,
	// asking for client certificates (mTLS). Default: none.
	ConsumerTLS *TLSListener `yaml:"consumer_tls"`
	// Status serves /metrics, /healthz, /readyz. Default 127.0.0.1:9464.
	Status Listener `yaml:"status"`
	// Admin serves /admin/*. Default 127.0.0.1:9465.
	Admin AdminListener `yaml:"admin"`
	// ReadHeaderTimeout bounds reading a request head. Default 5s.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request. Default 60s.
	ReadTimeout Duration `yaml:"read_timeout"`
	// WriteTimeout bounds a whole exchange from the end of the head to the
	// end of the answer. Default 120s.
	WriteTimeout Duration `yaml:"write_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 120s.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes limits a request head. Default 64KiB.
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes"`
	// DrainTimeout is how long in-flight exchanges may take to finish after
	// SIGTERM; readiness fails from its start. Default 15s.
	DrainTimeout Duration `yaml:"drain_timeout"`
	// MaxBodyBytesInFlight bounds the request body bytes that all the
	// consumer listeners hold at once, node-wide; a body that would pass it
	// is refused with Server.RegistryBusy (503, Retry-After), before it is
	// read when its Content-Length says so. Read at start. Default 64MiB.
	MaxBodyBytesInFlight ByteSize `yaml:"max_body_bytes_in_flight"`
	// BodyReadTimeout is how long a request body may take to arrive before
	// it must keep up 64 KiB/s on average (counted from the start of the
	// body); a slower sender is cut off with Client.BadRequest, so that a
	// slow drip cannot hold a buffer until read_timeout. Read at start.
	// Default 10s.
	BodyReadTimeout Duration `yaml:"body_read_timeout"`
}

// Listener is a plain TCP listener.
type Listener struct {
	// Address is host:port.
	Address string `yaml:"address"`
}

// TLSListener is a TLS listener that may ask for client certificates.
type TLSListener struct {
	// Address is host:port. Required.
	Address string `yaml:"address"`
	// CertFile and KeyFile are the server's certificate and key. Required.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile holds the CAs that client certificates must chain to.
	// Required: it is what makes a certificate a credential.
	ClientCAFile string `yaml:"client_ca_file"`
}

// Member is an organisation of the directory.
type Member struct {
	// ID is INSTANCE/MEMBERCLASS/MEMBERCODE. Required.
	ID string `yaml:"id"`
	// Name is the organisation's name.
	Name string `yaml:"name"`
}

// Registry is a subsystem whose services govbus exposes.
type Registry struct {
	// ID is the subsystem id INSTANCE/CLASS/CODE/SUBSYSTEM. Required.
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Adapter is the adapter kind: rest or soap. Default "rest".
	Adapter string `yaml:"adapter"`
	// SOAPVersion is 1.1 or 1.2 for adapter soap. Default 1.1.
	SOAPVersion string `yaml:"soap_version"`
	// Endpoints are the base URLs of the registry's replicas. Required.
	Endpoints []string `yaml:"endpoints"`
	// Auth is govbus's own credential toward the registry. Default none.
	Auth UpstreamAuth `yaml:"auth"`
	// TLS configures https endpoints. Default: system roots.
	TLS UpstreamTLS `yaml:"tls"`
	// Timeout covers a whole call, retries included; services may set
	// their own. Default 10s.
	Timeout Duration `yaml:"timeout"`
	// MaxRequestBytes limits request bodies; services may set their own.
	// Default 10MiB.
	MaxRequestBytes ByteSize `yaml:"max_request_bytes"`
	// MaxResponseBytes limits the registry's answers. Default 32MiB.
	MaxResponseBytes ByteSize `yaml:"max_response_bytes"`
	// MaxInFlight is the bulkhead: requests in flight to the registry at
	// once; beyond it consumers get Server.RegistryBusy at once. Default 256.
	MaxInFlight int     `yaml:"max_in_flight"`
	Retry       Retry   `yaml:"retry"`
	Breaker     Breaker `yaml:"breaker"`
	Pool        Pool    `yaml:"pool"`
	// Services are the services the registry offers. At least one.
	Services []Service `yaml:"services"`
}

// UpstreamAuth is how govbus authenticates to a registry.
type UpstreamAuth struct {
	// Type is none, header, basic or bearer. Default none.
	Type string `yaml:"type"`
	// Header is the header name for type header.
	Header string `yaml:"header"`
	// Value is the key (header, bearer) or password (basic); use ${ENV}.
	Value string `yaml:"value"`
	// Username is the user for type basic.
	Username string `yaml:"username"`
}

// UpstreamTLS is the client TLS toward a registry.
type UpstreamTLS struct {
	// CAFile holds the CAs the registry's certificate must chain to.
	// Default: the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are govbus's client certificate. Default none.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the registry's certificate.
	ServerName string `yaml:"server_name"`
}

// Retry configures re-sending idempotent requests.
type Retry struct {
	// Max is how many times a request may be re-sent. Default 2; 0 after
	// "max: 0" means none.
	Max *int `yaml:"max"`
	// WaitMin and WaitMax bound the backoff. Defaults 20ms and 1s.
	WaitMin Duration `yaml:"wait_min"`
	WaitMax Duration `yaml:"wait_max"`
	// BudgetRatio is the share of requests that may be retries over the
	// last 10 seconds. Default 0.2.
	BudgetRatio float64 `yaml:"budget_ratio"`
	// BudgetMinPerSecond is a floor of retries per second however few the
	// requests. Default 5.
	BudgetMinPerSecond float64 `yaml:"budget_min_per_second"`
}

// Breaker configures the circuit breaker of each endpoint of a registry.
// Only transport errors, timeouts and 5xx answers count as failures.
type Breaker struct {
	// Disabled turns the breakers off. Default false.
	Disabled bool `yaml:"disabled"`
	// ConsecutiveFailures opens a breaker. Default 5.
	ConsecutiveFailures uint32 `yaml:"consecutive_failures"`
	// FailureRatio opens a breaker once MinRequests were seen in the
	// current interval. Default 0.5.
	FailureRatio float64 `yaml:"failure_ratio"`
	// MinRequests is the minimum for FailureRatio. Default 20.
	MinRequests uint32 `yaml:"min_requests"`
	// Interval resets a closed breaker's counts. Default 10s.
	Interval Duration `yaml:"interval"`
	// OpenTimeout is how long a breaker stays open before it lets probes
	// through (half-open). Default 10s.
	OpenTimeout Duration `yaml:"open_timeout"`
	// HalfOpenRequests is how many probes a half-open breaker lets
	// through. Default 1.
	HalfOpenRequests uint32 `yaml:"half_open_requests"`
}

// Pool sizes the registry's connection pool.
type Pool struct {
	// MaxIdleConnsPerHost is the idle pool per endpoint. Default 256.
	MaxIdleConnsPerHost int `yaml:"max_idle_conns_per_host"`
	// MaxConnsPerHost caps connections per endpoint. Default 512.
	MaxConnsPerHost int `yaml:"max_conns_per_host"`
	// IdleConnTimeout closes idle connections. Default 90s.
	IdleConnTimeout Duration `yaml:"idle_conn_timeout"`
	// ConnectTimeout bounds connection set-up. Default 2s.
	ConnectTimeout Duration `yaml:"connect_timeout"`
}

// Service is one service of a registry.
type Service struct {
	// Code is the service code. Required.
	Code string `yaml:"code"`
	// Methods are the HTTP methods the service accepts. Default [GET].
	Methods []string `yaml:"methods"`
	// Paths are the path templates it serves, e.g. /persons/{id}
	// (listMethods shows them). Default: none listed.
	Paths []string `yaml:"paths"`
	// Timeout covers the whole call. Default: the registry's.
	Timeout Duration `yaml:"timeout"`
	// MaxRequestBytes limits request bodies. Default: the registry's.
	MaxRequestBytes ByteSize `yaml:"max_request_bytes"`
	// OpenAPI is a file with the service's OpenAPI description, relative to
	// the configuration file. Default none.
	OpenAPI string `yaml:"openapi"`
	// Idempotent marks a service whose calls may be re-sent whatever their
	// method (e.g. a POST search). Default false: only GET, HEAD, OPTIONS,
	// PUT and DELETE are re-sent.
	Idempotent bool `yaml:"idempotent"`
	// Subject names where the data subject of a call is, for the message
	// log and the citizen's Data Tracker. Default: none.
	Subject *Subject `yaml:"subject"`
	// KeepBodies keeps request and response bodies in the message log
	// (digests are always kept). Default false.
	KeepBodies bool `yaml:"keep_bodies"`
	// KeepBodiesPerDay bounds the bytes of bodies the message log keeps
	// for this service per UTC day (counted by this process), so that a
	// client cannot fill the log's disk: once spent, the service's calls
	// get Server.LoggingFailed until the next day, and other services are
	// not affected. Default 1GiB.
	KeepBodiesPerDay ByteSize `yaml:"keep_bodies_per_day"`
	// SOAP maps REST calls (/r1/...) onto the registry's SOAP operation,
	// for adapter soap. X-Road SOAP requests pass through regardless.
	SOAP *SOAPMapping `yaml:"soap"`
	// PassHeaders are consumer request headers forwarded to the registry
	// besides the default end-to-end set (gateway.DefaultRequestHeaders:
	// Accept, Accept-Charset, Accept-Language, Content-Type,
	// Content-Language, If-Match, If-None-Match, If-Modified-Since,
	// If-Unmodified-Since; SOAPAction for soap registries; the subject
	// header of subject {in: header}). Every other consumer header is
	// dropped, and what is dropped is not seen by rule conditions either.
	// Reserved and dangerous names (X-Road-*, Authorization, Cookie,
	// X-HTTP-Method-Override, X-Original-URL, X-Real-IP, ...) and names
	// with '_' are refused. Default: none, e.g. [X-Tenant].
	PassHeaders []string `yaml:"pass_headers"`
	// PassResponseHeaders are registry answer headers passed to the
	// consumer besides the default set (gateway.DefaultResponseHeaders:
	// Content-Type, Content-Language, Content-Encoding,
	// Content-Disposition, Cache-Control, Expires, Last-Modified, ETag,
	// Vary, Retry-After). Under a rule with fields only Content-Type and
	// Content-Language pass, whatever this lists. Set-Cookie,
	// WWW-Authenticate, X-Road-* and hop-by-hop names are refused.
	// Default: none, e.g. [Location].
	PassResponseHeaders []string `yaml:"pass_response_headers"`
}

// SOAPMapping turns a REST call into a SOAP operation and its answer into
// JSON.
type SOAPMapping struct {
	// Operation is the Body element's local name; Namespace its namespace.
	Operation string `yaml:"operation"`
	Namespace string `yaml:"namespace"`
	// SOAPAction is sent as the SOAPAction header. Default none.
	SOAPAction string `yaml:"soap_action"`
	// Path is the REST path template whose {params} become child
	// elements of the operation. Default: the service's first path.
	Path string `yaml:"path"`
	// Template is a Go text/template rendering the operation element from
	// the params instead. Default none.
	Template string `yaml:"template"`
	// ResultElement names the element of the answer that becomes the JSON.
	// Default: the Body child's content.
	ResultElement string `yaml:"result_element"`
	// NotFoundFault is a substring of a Fault's faultstring that means 404.
	NotFoundFault string `yaml:"not_found_fault"`
}

// Subject locates the data subject (e.g. a person's id) in a call. It is
// stored only as a keyed hash.
type Subject struct {
	// In is path, query, header, json or soap (services of registries
	// with adapter soap).
	In string `yaml:"in"`
	// Name is the path template's parameter ("id" for /persons/{id}), the
	// query parameter, the header, or the JSON body field (dotted for
	// nested fields: "person.id"). For in: soap it is Element (validation
	// sets it).
	Name string `yaml:"name"`
	// Element, for in: soap, is the local name of the element (in any
	// namespace) inside the SOAP Body's operation whose text is the
	// subject, e.g. "code"; a repeated one is refused. A REST call that the
	// SOAP mapping turns into the operation takes the path parameter of
	// the same name instead, or, when the path holds none, the query
	// parameter (which a template may read; a repeated one is refused).
	// Required for in: soap.
	Element string `yaml:"element"`
	// Pattern is an RE2 expression the whole subject must match, e.g.
	// "[0-9]{10}". Registries read ids in their own ways (Java's parseLong
	// and Python's int() read 01000000042, 1_000_000_042 or full-width
	// digits as 1000000042), so a subject not in the service's format is
	// refused (Client.BadRequest) rather than recorded as another person.
	// Default: none (any subject that reads one way).
	Pattern string `yaml:"pattern"`
}

// Client is a consumer subsystem that may call through govbus.
type Client struct {
	// ID is the subsystem id. Required.
	ID   string     `yaml:"id"`
	Name string     `yaml:"name"`
	Auth ClientAuth `yaml:"auth"`
}

// ClientAuth is how a client proves its identity: "auth: none" (or its
// mapping form {none: {from: [...]}}), or a mapping with API key hashes
// and/or certificate identities and the CA that issues the certificates.
type ClientAuth struct {
	// None marks a client that needs no credential (X-Road's "HTTP"
	// connection type): set by "auth: none" and by a "none:" mapping. It is
	// accepted only from NoneNetworks. Default false.
	None bool `yaml:"-"`
	// NoneNetworks is the mapping form, auth: {none: {from: [10.20.0.0/16]}};
	// nil for plain "auth: none", which means loopback only. Cannot be
	// combined with api_keys or certificates.
	NoneNetworks *NoneNetworks `yaml:"none"`
	// APIKeys are "sha256:<hex>" hashes of the client's keys (govbus
	// hash-key prints one). Keys themselves are never configured.
	APIKeys []string `yaml:"api_keys"`
	// Certificates identify the client's TLS client certificates (over
	// listeners.consumer_tls). Each matches only a certificate that chains
	// to CAFile.
	Certificates []CertIdentity `yaml:"certificates"`
	// CAFile holds the PEM certificate(s) of the CA(s) that issue this
	// client's certificates. A certificate must chain both to the
	// listener's client_ca_file and to this file, so that a CA trusted for
	// other clients cannot issue one for this client. Required with
	// certificates; only with them.
	CAFile string `yaml:"ca_file"`
	// CRLFile holds revocation lists (PEM "X509 CRL" blocks, or one DER
	// list) signed by a CA of CAFile; a certificate they list is refused
	// (401). Read at start and at each reload. Default none.
	CRLFile string `yaml:"crl_file"`
}

// NoneNetworks are the networks an auth none client may call from.
type NoneNetworks struct {
	// From are CIDR prefixes (10.20.0.0/16, fd00::/8) or single addresses,
	// matched against the TCP peer's address, never a header. Default
	// (empty): loopback only, 127.0.0.0/8 and ::1.
	From []string `yaml:"from"`
}

// CertIdentity matches a client certificate by fingerprint or by subject;
// an entry names one of them (both would be ambiguous: refused).
type CertIdentity struct {
	// SHA256 is the hex fingerprint of the certificate's DER encoding.
	SHA256 string `yaml:"sha256"`
	// Subject is the certificate's whole subject DN in RFC 4514 form, most
	// significant RDN last: "CN=eservice,O=Ministry". Every RDN of the
	// certificate must be there, in order; a multi-valued RDN is written
	// with "+" (CN=eservice+O=Ministry), and is not the same name as
	// CN=eservice,O=Ministry. No spaces after ",".
	Subject string `yaml:"subject"`
}

// Rule is one policy rule (see package policies for the matching rules).
type Rule struct {
	// ID names the rule in logs and decisions. Required, unique.
	ID string `yaml:"id"`
	// Clients are client ids or "group:NAME". Required.
	Clients []string `yaml:"clients"`
	// Services are service ids, or SUBSYSTEM/* for all of a subsystem's.
	Services []string `yaml:"services"`
	// Methods limit the HTTP methods. Default: any the service declares.
	Methods []string `yaml:"methods"`
	// Paths are globs over the path after the service code. Default: any.
	Paths []string `yaml:"paths"`
	// Purposes are the allowed X-Road-Purpose values. Default: none needed.
	Purposes []string `yaml:"purposes"`
	// Rights are extra rights, e.g. "tracker".
	Rights []string `yaml:"rights"`
	// DiscloseAfter hides the accesses this rule allows from the Data
	// Tracker for that long (covert access, e.g. 4320h). Default 0.
	DiscloseAfter Duration `yaml:"disclose_after"`
	// Fields are the JSON paths of the answer the clients may receive
	// (data minimisation), e.g. [id, birth_date, address.city,
	// children[].id]; everything else is removed. Default: all fields.
	Fields []string `yaml:"fields"`
	// Rate limits the clients' calls under this rule. Default: none.
	Rate *RateLimit `yaml:"rate"`
	// Quota caps the clients' calls per UTC day. Default: none.
	Quota *Quota `yaml:"quota"`
	// Condition is a CEL expression (https://cel.dev) that must be true for
	// the rule to allow a call; false makes the rule not match, and an
	// evaluation error denies the call. It is type-checked when the
	// configuration is loaded. Variables: method, path, params (the path
	// template parameters, e.g. params.id), headers (lower-case names),
	// purpose, user_id, issue, client, service, now (a timestamp),
	// represented_party and represented_party_class; see package policies.
	// Examples:
	//
	//	condition: now.getHours("Europe/Kyiv") >= 9 && now.getHours("Europe/Kyiv") < 18
	//	condition: params.id == represented_party
	//	condition: headers["x-tenant"] == "kyiv" && user_id != ""
	//
	// Default: none.
	Condition string `yaml:"condition"`
}

// RateLimit is a token bucket.
type RateLimit struct {
	// PerSecond is the sustained rate. Required.
	PerSecond float64 `yaml:"per_second"`
	// Burst is the bucket size. Default: PerSecond rounded up, at least 1.
	Burst int `yaml:"burst"`
	// PerService limits each client × service pair apart instead of the
	// client as a whole. Default false.
	PerService bool `yaml:"per_service"`
}

// Quota is a daily cap (UTC days, fixed window).
type Quota struct {
	// PerDay is the number of calls allowed per day. Required.
	PerDay int `yaml:"per_day"`
	// PerService counts each client × service pair apart. Default false.
	PerService bool `yaml:"per_service"`
}

// Tracing configures OpenTelemetry span export over OTLP/HTTP. The standard
// variables OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
// OTEL_TRACES_SAMPLER(_ARG) and OTEL_SERVICE_NAME override it.
type Tracing struct {
	// Endpoint is the collector's OTLP/HTTP base URL, e.g.
	// http://127.0.0.1:4318. Default: none (no spans are recorded unless a
	// variable names one).
	Endpoint string `yaml:"endpoint"`
	// ServiceName names govbus in traces. Default "govbus".
	ServiceName string `yaml:"service_name"`
	// Sampler is parentbased_always_on (default), always_on, always_off,
	// traceidratio or parentbased_traceidratio; SamplerArg is the ratio.
	Sampler    string  `yaml:"sampler"`
	SamplerArg float64 `yaml:"sampler_arg"`
	// QueueSize bounds spans waiting for export (beyond it they are dropped
	// and counted). Default 4096.
	QueueSize int `yaml:"queue_size"`
	// BatchSize is spans per export. Default 512.
	BatchSize int `yaml:"batch_size"`
	// ExportTimeout bounds one export. Default 5s.
	ExportTimeout Duration `yaml:"export_timeout"`
}

// MessageLog configures the message log: two records per exchange in one
// hash chain per node, signed in batches.
type MessageLog struct {
	// Disabled turns the message log off (tests and benchmarks only).
	// Default false.
	Disabled bool `yaml:"disabled"`
	// Store is sqlite (default) or postgres.
	Store string `yaml:"store"`
	// Path is the SQLite file. Default var/messagelog.db (relative to the
	// working directory).
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string (use ${ENV}).
	DSN string `yaml:"dsn"`
	// SigningKey is the Ed25519 key file signing the chain heads, relative
	// to the working directory. `govbus keygen` writes one; govbus serve
	// writes one at first start when the file is missing (and says so).
	// Default var/messagelog.key.
	SigningKey string `yaml:"signing_key"`
	// SignEvery and SignInterval: a head is signed every SignEvery records
	// or SignInterval, whichever comes first. Defaults 1000 and 1s.
	SignEvery    int      `yaml:"sign_every"`
	SignInterval Duration `yaml:"sign_interval"`
	// SubjectKey keys the HMAC-SHA256 of data subjects (use ${ENV}).
	// Required when a service names a subject.
	SubjectKey string `yaml:"subject_key"`
	// Retention is how long records are kept before `govbus audit prune`
	// may remove them (once verified and exported). Default 0: forever.
	Retention Duration `yaml:"retention"`
}
