/**
 * Well-known model providers, US and EU alike. Whatever a machine sends one of them is a data flow to a processor,
 * which the policy judges by legal seat, class and form: no host of theirs is ever an extra host, however public the
 * caller says the data is. `host` is every host the provider serves (its company domain and subdomains, a customer's
 * or region's endpoint pattern), which the allowlist refuses; `api` only the hosts its API is called at, which is what a
 * configuration names to send it requests (a text scan that matched the company domain would read a link to its docs,
 * a press address, as a proxy in front of it). `regional`: its API is split by region or customer
 * (`<resource>.openai.azure.com`, `bedrock-runtime.<region>.amazonaws.com`, `eu.api.openai.com`), so a policy naming
 * one of its hosts names that host only, not the provider's others.
 */
interface ModelApi {
  readonly provider: string;
  readonly host: RegExp;
  readonly api: RegExp;
  readonly regional?: boolean;
}

const MODEL_APIS: readonly ModelApi[] = [
  // api.openai.com and its regional endpoints (eu.api.openai.com, for data residency in Europe).
  { provider: 'OpenAI', host: /(^|\.)openai\.com$/, api: /^([a-z0-9-]+\.)?api\.openai\.com$/, regional: true },
  { provider: 'Azure OpenAI (Microsoft)', host: /\.openai\.azure\.com$/, api: /\.openai\.azure\.com$/, regional: true },
  // Azure AI Foundry: a resource's own endpoint (<resource>.services.ai.azure.com, <resource>.cognitiveservices.azure.com)
  // and the shared model inference endpoint.
  {
    provider: 'Azure AI Foundry (Microsoft)',
    host: /(\.services\.ai\.azure\.com|\.cognitiveservices\.azure\.com|^models\.inference\.ai\.azure\.com)$/,
    api: /(\.services\.ai\.azure\.com|\.cognitiveservices\.azure\.com|^models\.inference\.ai\.azure\.com)$/,
    regional: true,
  },
  { provider: 'Anthropic', host: /(^|\.)(anthropic\.com|claude\.ai)$/, api: /^api\.anthropic\.com$/ },
  { provider: 'Google (Gemini API)', host: /^generativelanguage\.googleapis\.com$/, api: /^generativelanguage\.googleapis\.com$/ },
  { provider: 'Google (Vertex AI)', host: /(^|[.-])aiplatform\.googleapis\.com$/, api: /(^|[.-])aiplatform\.googleapis\.com$/, regional: true },
  { provider: 'Amazon Bedrock', host: /(^|\.)bedrock[a-z-]*\.[a-z0-9-]+\.amazonaws\.com$/, api: /(^|\.)bedrock[a-z-]*\.[a-z0-9-]+\.amazonaws\.com$/, regional: true },
  { provider: 'Cohere', host: /(^|\.)cohere\.(ai|com)$/, api: /^api\.cohere\.(ai|com)$/ },
  { provider: 'Groq', host: /(^|\.)groq\.com$/, api: /^api\.groq\.com$/ },
  { provider: 'Together AI', host: /(^|\.)together\.(ai|xyz)$/, api: /^api\.together\.(ai|xyz)$/ },
  { provider: 'DeepSeek', host: /(^|\.)deepseek\.com$/, api: /^api\.deepseek\.com$/ },
  { provider: 'xAI', host: /^api\.x\.ai$/, api: /^api\.x\.ai$/ },
  { provider: 'Perplexity', host: /^api\.perplexity\.ai$/, api: /^api\.perplexity\.ai$/ },
  { provider: 'Fireworks AI', host: /^api\.fireworks\.ai$/, api: /^api\.fireworks\.ai$/ },
  // Its API is served at the site's own host (https://openrouter.ai/api/v1).
  { provider: 'OpenRouter', host: /(^|\.)openrouter\.ai$/, api: /^openrouter\.ai$/ },
  { provider: 'Hugging Face (inference)', host: /^(api-inference|router)\.huggingface\.co$/, api: /^(api-inference|router)\.huggingface\.co$/ },
  { provider: 'Hugging Face (Inference Endpoints)', host: /\.endpoints\.huggingface\.cloud$/, api: /\.endpoints\.huggingface\.cloud$/, regional: true },
  { provider: 'Replicate', host: /^api\.replicate\.com$/, api: /^api\.replicate\.com$/ },
  { provider: 'Voyage AI', host: /^api\.voyageai\.com$/, api: /^api\.voyageai\.com$/ },
  { provider: 'AI21 Labs', host: /^api\.ai21\.com$/, api: /^api\.ai21\.com$/ },
  { provider: 'Cerebras', host: /^api\.cerebras\.ai$/, api: /^api\.cerebras\.ai$/ },
  { provider: 'NVIDIA (API catalog)', host: /^integrate\.api\.nvidia\.com$/, api: /^integrate\.api\.nvidia\.com$/ },
  // Alibaba Cloud Model Studio (Qwen): the mainland and the international endpoint.
  { provider: 'Alibaba Cloud (DashScope)', host: /^dashscope(-intl)?\.aliyuncs\.com$/, api: /^dashscope(-intl)?\.aliyuncs\.com$/, regional: true },
  { provider: 'Mistral AI', host: /(^|\.)mistral\.ai$/, api: /^(api|codestral)\.mistral\.ai$/ },
  // Its embeddings and rerankers (api.), its reader (r.) and search (s.).
  { provider: 'Jina AI', host: /(^|\.)jina\.ai$/, api: /^(api|r|s)\.jina\.ai$/ },
  { provider: 'Aleph Alpha', host: /(^|\.)aleph-alpha\.com$/, api: /^api\.aleph-alpha\.com$/ },
];

/** The model provider any of whose hosts `hostname` is, or `undefined`. */
export function modelProviderOf(hostname: string): string | undefined {
  return MODEL_APIS.find((m) => m.host.test(hostname))?.provider;
}

/** The model provider whose API `hostname` is called at, or `undefined` (its docs, console or site are not). */
export function modelApiProviderOf(hostname: string): string | undefined {
  return MODEL_APIS.find((m) => m.api.test(hostname))?.provider;
}

/**
 * Whether naming `named` (a processor's host in the policy) names `hostname` too: the same host, or another host of
 * the same provider where its hosts are not split by region or customer (docs.mistral.ai beside api.mistral.ai). A
 * region's or customer's endpoint names only itself: `acme-swe.openai.azure.com` is not `someone-eastus.openai.azure.com`.
 */
export function namesModelHost(named: string, hostname: string): boolean {
  if (named === hostname) return true;
  const provider = MODEL_APIS.find((m) => m.host.test(hostname));
  return provider !== undefined && !provider.regional && provider.host.test(named);
}
