// HTTPS in front of a Gatehouse server, for the device-bound session tests: Chrome
// binds sessions only over HTTPS, and Gatehouse leaves TLS to a reverse proxy, as in
// production. Forwards every request to TARGET with its Host (so the same-site check
// sees the browser's own origin) and what a proxy in TRUSTED_PROXIES tells: the client's
// address (`X-Forwarded-For`) and that it came over HTTPS (`X-Forwarded-Proto`), then
// streams the answer back.
//
// Environment: TLS_PORT (listen on 127.0.0.1), TARGET (http://127.0.0.1:PORT),
// TLS_CERT and TLS_KEY (PEM files).

import https from "node:https";
import http from "node:http";
import { readFileSync } from "node:fs";

const target = new URL(process.env.TARGET);
const server = https.createServer(
  { cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) },
  (request, response) => {
    const upstream = http.request(
      {
        hostname: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: {
          ...request.headers,
          "x-forwarded-for": request.socket.remoteAddress ?? "127.0.0.1",
          "x-forwarded-proto": "https",
        },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(response);
      },
    );
    upstream.on("error", (err) => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`proxy: ${err.message}`);
    });
    request.pipe(upstream);
  },
);
server.listen(Number(process.env.TLS_PORT), "127.0.0.1");
