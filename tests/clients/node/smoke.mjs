// Calls a Kiln gateway with the official openai package, plain and streaming, and prints what it
// got as one JSON line. Environment: KILN_BASE_URL (e.g. http://127.0.0.1:8420/v1), KILN_API_KEY, KILN_MODEL.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.KILN_BASE_URL, apiKey: process.env.KILN_API_KEY, maxRetries: 0 });
const model = process.env.KILN_MODEL;
const messages = [{ role: "user", content: "Tell me a story" }];

const plain = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0 });

let streamed = "";
let finish = null;
let chunks = 0;
const stream = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0, stream: true });
for await (const chunk of stream) {
  chunks++;
  for (const choice of chunk.choices) {
    streamed += choice.delta?.content ?? "";
    finish = choice.finish_reason ?? finish;
  }
}

const completion = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 8, temperature: 0 });

let notFound = null;
try {
  await client.chat.completions.create({ model: "accounts/nobody/models/none", messages, max_tokens: 1 });
} catch (e) {
  notFound = { status: e.status, code: e.code };
}

const models = (await client.models.list()).data.map((m) => m.id);

console.log(JSON.stringify({
  plain: plain.choices[0].message.content,
  usage: plain.usage,
  streamed,
  finish,
  chunks,
  completion: completion.choices[0].text,
  notFound,
  models,
}));
