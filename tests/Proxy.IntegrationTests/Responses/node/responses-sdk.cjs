// Drives the gateway's Responses API with the official Node SDK (npm openai): create, stream, retrieve, a function-tool
// round trip, a three-turn previous_response_id chain alternating between replicas, and delete. Prints one JSON report;
// the .NET test (NodeSdkTests) asserts on it. Settings come from the environment: OPENAI_NODE (the folder holding
// node_modules/openai), GATEWAY_URLS (comma-separated /v1 base URLs, one per replica), GATEWAY_KEY, MODEL.
const path = require('node:path');
const OpenAI = require(path.join(process.env.OPENAI_NODE, 'node_modules', 'openai')).default;

const clients = process.env.GATEWAY_URLS.split(',').map(
  (baseURL) => new OpenAI({ baseURL, apiKey: process.env.GATEWAY_KEY, maxRetries: 0, timeout: 30_000 }));
const model = process.env.MODEL;
const tools = [{ type: 'function', name: 'get_weather', description: 'Weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];

async function main() {
  const report = {};

  const created = await clients[0].responses.create({ model, input: 'hello there' });
  report.created = { id: created.id, object: created.object, status: created.status, text: created.output_text, usage: created.usage };

  const stream = clients[1 % clients.length].responses.stream({ model, input: 'stream please' });
  const types = [];
  const sequence = [];
  let deltas = '';
  for await (const event of stream) {
    types.push(event.type);
    sequence.push(event.sequence_number);
    if (event.type === 'response.output_text.delta') deltas += event.delta;
  }
  const final = await stream.finalResponse();
  // finalResponse() is the response.completed event's object, which has no output_text convenience.
  const finalText = final.output.filter((o) => o.type === 'message').flatMap((o) => o.content).map((c) => c.text ?? '').join('');
  report.stream = { types, sequence, deltas, id: final.id, text: finalText, usage: final.usage };

  const retrieved = await clients[1 % clients.length].responses.retrieve(created.id);
  report.retrieved = { id: retrieved.id, text: retrieved.output_text };

  const call = await clients[0].responses.create({ model, input: 'what is the weather in Paris?', tools });
  const item = call.output.find((o) => o.type === 'function_call');
  const toolAnswer = await clients[1 % clients.length].responses.create({
    model, tools, previous_response_id: call.id,
    input: [{ type: 'function_call_output', call_id: item.call_id, output: '12 C' }],
  });
  report.tool = { name: item.name, arguments: item.arguments, callId: item.call_id, text: toolAnswer.output_text, previous: toolAnswer.previous_response_id, callResponseId: call.id };

  const chain = [];
  let previous;
  for (let turn = 0; turn < 3; turn++) {
    const answer = await clients[turn % clients.length].responses.create({ model, input: `turn ${turn}`, previous_response_id: previous });
    chain.push({ id: answer.id, previous: answer.previous_response_id ?? null, text: answer.output_text });
    previous = answer.id;
  }
  report.chain = chain;

  const deleted = await clients[0].responses.delete(created.id).then(() => true);
  let afterDelete = null;
  try {
    await clients[1 % clients.length].responses.retrieve(created.id);
  } catch (error) {
    afterDelete = error.status ?? String(error);
  }
  report.deleted = { deleted, afterDelete };

  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error) + '\n' + JSON.stringify(error?.error ?? null) + '\n');
  process.exit(1);
});
