/**
 * The one way the console talks to the API: same-origin fetch with the session cookie, JSON in and
 * out, and errors carrying the API's code, Chinese message and field details.
 */
export interface FieldIssue {
  path: (string | number)[];
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** Field-level problems ({ path, message }) when the API named them. */
  get fieldIssues(): FieldIssue[] {
    return Array.isArray(this.details)
      ? (this.details as FieldIssue[]).filter((d) => d && Array.isArray(d.path) && typeof d.message === 'string')
      : [];
  }
}

/** The session's CSRF token, which the API sets as a cookie this page's scripts may read (api/auth/csrf.ts). */
function csrfToken(): string | undefined {
  const entry = document.cookie.split('; ').find((c) => c.startsWith('kc_csrf='));
  return entry ? decodeURIComponent(entry.slice('kc_csrf='.length)) : undefined;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function apiFetch<T = unknown>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  const token = csrfToken();
  if (token && UNSAFE.has((rest.method ?? 'GET').toUpperCase())) headers.set('x-csrf-token', token);
  let res: Response;
  try {
    res = await fetch(path, {
      credentials: 'same-origin',
      ...rest,
      headers,
      body: json !== undefined ? JSON.stringify(json) : rest.body,
    });
  } catch {
    throw new ApiError(0, 'NETWORK', '无法连接服务器，请检查网络后重试；本次操作未提交。');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const body = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string; details?: unknown } })?.error;
    throw new ApiError(res.status, e?.code ?? 'HTTP', e?.message ?? `请求失败（${res.status}）`, e?.details);
  }
  return body as T;
}

/** A query string from a record of values (undefined and empty values left out, arrays repeated). */
export function query(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The file name a download's Content-Disposition gives (RFC 5987 `filename*` first). */
function fileNameOf(disposition: string | null, fallback: string): string {
  const utf8 = disposition && /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (utf8) return decodeURIComponent(utf8[1]!);
  const plain = disposition && /filename="([^"]+)"/i.exec(disposition);
  return plain ? plain[1]! : fallback;
}

/**
 * Downloads a file the API serves (XLSX, CSV) and saves it under the name the API gives. A refusal comes
 * back as the API's error with its Chinese message — a plain link would have opened the error's JSON as
 * a page instead.
 */
export async function apiDownload(path: string, fallbackName: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'NETWORK', '无法连接服务器，请检查网络后重试。');
  }
  if (!res.ok) {
    const text = await res.text();
    const e = text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text)?.error : undefined;
    throw new ApiError(res.status, e?.code ?? 'HTTP', e?.message ?? `下载失败（${res.status}）`, e?.details);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = fileNameOf(res.headers.get('content-disposition'), fallbackName);
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The browser has taken the file by the time the click returns; free the blob a moment later.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
