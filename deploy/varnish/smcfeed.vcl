# Varnish in front of smcfeed replicas: caches what the service says it may (Cache-Control,
# ETag, Vary), and drops exactly the responses the service purges by surrogate key.
#
# Needs Varnish 6 or later with the xkey vmod (Debian: apt-get install varnish varnish-modules).
# Start the service with the purge endpoint, e.g.
#   smcfeed serve --port 8001 --purge http://127.0.0.1:6081/
# Replace the two backends below with your replicas (add more to the director as needed).
vcl 4.1;

import directors;
import std;
import xkey;

probe healthz {
    .url = "/healthz";
    .interval = 2s;
    .timeout = 1s;
    .window = 3;
    .threshold = 2;
    # Healthy from the start: a fresh Varnish serves at once.
    .initial = 2;
}

backend replica1 {
    .host = "127.0.0.1";
    .port = "8001";
    .probe = healthz;
}

backend replica2 {
    .host = "127.0.0.1";
    .port = "8002";
    .probe = healthz;
}

# Who may purge: the service itself, on the same machine (widen to your replicas' network).
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_init {
    new replicas = directors.round_robin();
    replicas.add_backend(replica1);
    replicas.add_backend(replica2);
}

sub vcl_recv {
    set req.backend_hint = replicas.backend();

    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "PURGE needs an xkey-purge header"));
        }
        set req.http.n-gone = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.n-gone + " objects"));
    }

    if (req.url ~ "^/healthz") {
        return (pass);
    }

    # Feeds vary on Accept (a browser that prefers text/html gets the feed's HTML page).
    # Without text/html in Accept the service always answers with the feed: such requests
    # share one cache entry whatever else they say.
    if (req.http.Accept !~ "(?i)text/html") {
        unset req.http.Accept;
    }

    # One cache entry per coding the service would choose: br, gzip or identity. Varnish
    # rewrites Accept-Encoding to gzip after this sub, so the choice travels in its own
    # header, is part of the hash, and goes back to the backend in vcl_backend_fetch.
    if (req.http.Accept-Encoding ~ "(?i)(^|[\s,])br\s*(;|,|$)"
        && req.http.Accept-Encoding !~ "(?i)(^|[\s,])br\s*;\s*q=0(\.0*)?\s*(,|$)") {
        set req.http.X-Smcfeed-Coding = "br";
    } elsif (req.http.Accept-Encoding ~ "(?i)(^|[\s,])gzip\s*(;|,|$)"
        && req.http.Accept-Encoding !~ "(?i)(^|[\s,])gzip\s*;\s*q=0(\.0*)?\s*(,|$)") {
        set req.http.X-Smcfeed-Coding = "gzip";
    } else {
        set req.http.X-Smcfeed-Coding = "identity";
    }

    # While a replica is healthy nothing stale is served: an embargo lifting or an edit is
    # fetched, never papered over. With every replica down, stale feeds beat errors.
    if (std.healthy(req.backend_hint)) {
        set req.grace = 0s;
    }
}

sub vcl_hash {
    hash_data(req.http.X-Smcfeed-Coding);
}

sub vcl_backend_fetch {
    if (bereq.http.X-Smcfeed-Coding == "identity") {
        unset bereq.http.Accept-Encoding;
    } else {
        set bereq.http.Accept-Encoding = bereq.http.X-Smcfeed-Coding;
    }
    unset bereq.http.X-Smcfeed-Coding;
}

sub vcl_backend_response {
    # Errors (an unknown or embargoed article's 404) are never kept: an article must appear
    # the moment its embargo lifts.
    if (beresp.status >= 400) {
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    # The service compresses; Varnish stores its bytes and ETags as they are.
    set beresp.do_gzip = false;
    set beresp.do_gunzip = false;
    set beresp.grace = 1h;
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "hit";
    } else {
        set resp.http.X-Cache = "miss";
    }
    # Surrogate keys are for this cache only.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
    unset resp.http.X-Varnish;
    unset resp.http.Via;
}
