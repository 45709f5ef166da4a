/**
 * The API hosts of well-known model providers, US and EU alike. Whatever a machine sends one of them is a
 * data flow to a processor, which the policy judges by legal seat, class and form: such a host is never an
 * extra host, however public the caller says the data is. Matched on the host and its subdomains where a provider
 * serves each customer's resource or endpoint under its own subdomain (`<resource>.openai.azure.com`), on the exact
 * host otherwise.
 */
const MODEL_APIS: ReadonlyArray<{ readonly provider: string; readonly host: RegExp }> = [
  { provider: 'OpenAI', host: /(^|\.)openai\.com$/ },
  { provider: 'Azure OpenAI (Microsoft)', host: /\.openai\.azure\.com$/ },
  // Azure AI Foundry: a resource's own endpoint (<resource>.services.ai.azure.com, <resource>.cognitiveservices.azure.com)
  // and the shared model inference endpoint.
  { provider: 'Azure AI Foundry (Microsoft)', host: /(\.services\.ai\.azure\.com|\.cognitiveservices\.azure\.com|^models\.inference\.ai\.azure\.com)$/ },
  { provider: 'Anthropic', host: /(^|\.)(anthropic\.com|claude\.ai)$/ },
  { provider: 'Google (Gemini API)', host: /^generativelanguage\.googleapis\.com$/ },
  { provider: 'Google (Vertex AI)', host: /(^|[.-])aiplatform\.googleapis\.com$/ },
  { provider: 'Amazon Bedrock', host: /(^|\.)bedrock[a-z-]*\.[a-z0-9-]+\.amazonaws\.com$/ },
  { provider: 'Cohere', host: /(^|\.)cohere\.(ai|com)$/ },
  { provider: 'Groq', host: /(^|\.)groq\.com$/ },
  { provider: 'Together AI', host: /(^|\.)together\.(ai|xyz)$/ },
  { provider: 'DeepSeek', host: /(^|\.)deepseek\.com$/ },
  { provider: 'xAI', host: /^api\.x\.ai$/ },
  { provider: 'Perplexity', host: /^api\.perplexity\.ai$/ },
  { provider: 'Fireworks AI', host: /^api\.fireworks\.ai$/ },
  { provider: 'OpenRouter', host: /(^|\.)openrouter\.ai$/ },
  { provider: 'Hugging Face (inference)', host: /^(api-inference|router)\.huggingface\.co$/ },
  { provider: 'Hugging Face (Inference Endpoints)', host: /\.endpoints\.huggingface\.cloud$/ },
  { provider: 'Replicate', host: /^api\.replicate\.com$/ },
  { provider: 'Voyage AI', host: /^api\.voyageai\.com$/ },
  { provider: 'AI21 Labs', host: /^api\.ai21\.com$/ },
  { provider: 'Cerebras', host: /^api\.cerebras\.ai$/ },
  { provider: 'NVIDIA (API catalog)', host: /^integrate\.api\.nvidia\.com$/ },
  // Alibaba Cloud Model Studio (Qwen): the mainland and the international endpoint.
  { provider: 'Alibaba Cloud (DashScope)', host: /^dashscope(-intl)?\.aliyuncs\.com$/ },
  { provider: 'Mistral AI', host: /(^|\.)mistral\.ai$/ },
  { provider: 'Jina AI', host: /(^|\.)jina\.ai$/ },
  { provider: 'Aleph Alpha', host: /(^|\.)aleph-alpha\.com$/ },
];

/** The model provider whose API `hostname` is, or `undefined`. */
export function modelProviderOf(hostname: string): string | undefined {
  return MODEL_APIS.find((m) => m.host.test(hostname))?.provider;
}
