import type { Carrier, CarrierOptions, PlaceCallRequest, WebhookRequest } from "../carrier.js";
import { createCall } from "../twilio/create-call.js";
import { sdkError } from "../twilio/errors.js";
import { renderVoiceXml, type ResponseBuilder, type SayNode } from "../twilio/voice-xml.js";
import { answeringVerdict, parseTwimlWebhook } from "../twilio/webhook.js";
import type { SignalWireSettings } from "./settings.js";
import { RestClient } from "./sdk.js";

/** What the operator checks when SignalWire refuses the credentials: a project belongs to one space. */
const CREDENTIALS = ["SIGNALWIRE_PROJECT", "SIGNALWIRE_TOKEN", "SIGNALWIRE_SPACE"];

type RequestOptions = Record<string, unknown>;
type RequestClientClass = new () => { request(opts: RequestOptions): Promise<unknown> };

/** The SDK ignores its timeout option; a request client that sets it on every request does not. */
function timedRequestClient(timeoutMs: number) {
  const Base = RestClient.RequestClient as unknown as RequestClientClass;
  class TimedRequestClient extends Base {
    override request(opts: RequestOptions) {
      return super.request({ ...opts, timeout: timeoutMs });
    }
  }
  return new TimedRequestClient();
}

export function connectSignalWire(settings: SignalWireSettings, opts: CarrierOptions): Carrier {
  const name = opts.name ?? "signalwire";
  const client = RestClient(settings.project, settings.token, {
    signalwireSpaceUrl: settings.space,
    httpClient: timedRequestClient(opts.timeoutMs) as never,
  });
  // The SDK hard-codes https://<space>; the override points it at a stand-in (scheme, host, port).
  if (settings.apiBaseUrl) (client.api as unknown as { baseUrl: string }).baseUrl = settings.apiBaseUrl;

  return {
    name,
    placeCall: (req: PlaceCallRequest) =>
      createCall(name, opts.timeoutMs, CREDENTIALS, (o) => client.calls.create(o), settings.from, req),
    verifyWebhook(req: WebhookRequest) {
      // SignalWire sends its own header and accepts the Twilio name as an alias.
      const signature = req.headers["x-signalwire-signature"] ?? req.headers["x-twilio-signature"];
      if (!signature) return false;
      return RestClient.validateRequest(settings.signingKey, signature, req.url, req.params);
    },
    // LaML webhooks are Twilio's, field for field.
    parseWebhook: parseTwimlWebhook,
    answeringVerdict,
    render(script) {
      const response = new RestClient.LaML.VoiceResponse() as unknown as ResponseBuilder;
      const body = renderVoiceXml(response, script, (say: SayNode, ms) =>
        (say as unknown as { break_(a: { time: string }): unknown }).break_({ time: `${ms}ms` }),
      );
      return { contentType: "text/xml; charset=utf-8", body };
    },
    mapError: (err) => sdkError(name, err, opts.timeoutMs, CREDENTIALS),
  };
}
