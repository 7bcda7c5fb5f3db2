// Preloaded into an agent (NODE_OPTIONS=--import) by the secrets test: appends
// every byte grpc-js hands to an HTTP/2 stream, i.e. each framed protobuf
// message before TLS encrypts it, to $CLAWFLEET_CAPTURE. grpc-js calls
// http2.connect through the module object, so wrapping it here is enough.
import http2 from "node:http2";
import { appendFileSync } from "node:fs";

const capture = process.env.CLAWFLEET_CAPTURE;
const connect = http2.connect;
http2.connect = function (...args) {
  const session = connect.apply(this, args);
  const request = session.request;
  session.request = function (...requestArgs) {
    const stream = request.apply(this, requestArgs);
    const write = stream.write;
    stream.write = function (chunk, ...rest) {
      if (capture && chunk) appendFileSync(capture, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      return write.call(this, chunk, ...rest);
    };
    return stream;
  };
  return session;
};
