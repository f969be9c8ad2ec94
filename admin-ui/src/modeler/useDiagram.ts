/** Loading a diagram's latest version and history, validating a draft as it changes, deploying and rolling back. */
import { useCallback, useEffect, useState } from 'react';
import { apiFetch, ApiError } from '../api';
import type { Kind, Problem, Svg, Validation, VersionInfo } from './model';

/** Waits this long after the last edit before asking the API to validate (live validation). */
const VALIDATE_AFTER_MS = 400;

/** The problems the API listed with a refusal, or one line for any other error. */
export function refusalProblems(err: unknown): { message: string; problems: Problem[] } {
  if (err instanceof ApiError) {
    const problems = (err.details as { problems?: Problem[] } | undefined)?.problems ?? [];
    return { message: err.message, problems };
  }
  return { message: '操作失败，请稍后重试', problems: [] };
}

export function useDiagram(kind: Kind, id: string, canValidate: boolean) {
  const [versions, setVersions] = useState<VersionInfo[]>([]);
  const [deployedXml, setDeployedXml] = useState('');
  const [deployedSvgs, setDeployedSvgs] = useState<Svg[]>([]);
  const [draft, setDraft] = useState('');
  const [validation, setValidation] = useState<Validation | undefined>();
  const [loadError, setLoadError] = useState<string>();

  const reload = useCallback(async () => {
    try {
      const list = await apiFetch<{ data: VersionInfo[] }>(`/api/diagrams/${kind}/${encodeURIComponent(id)}/versions`);
      setVersions(list.data);
      const latest = list.data[0];
      if (!latest) return;
      const v = await apiFetch<{ xml: string; svgs: Svg[] }>(
        `/api/diagrams/${kind}/${encodeURIComponent(id)}/versions/${latest.version}`,
      );
      setDeployedXml(v.xml);
      setDeployedSvgs(v.svgs);
      setDraft(v.xml);
      setValidation(undefined);
    } catch (err) {
      setLoadError(err instanceof ApiError ? err.message : '加载失败');
    }
  }, [kind, id]);

  useEffect(() => {
    void reload();
  }, [reload]);

  useEffect(() => {
    if (!canValidate || !draft || draft === deployedXml) return;
    const timer = setTimeout(() => {
      apiFetch<Validation>('/api/diagrams/validate', { method: 'POST', json: { kind, xml: draft } })
        .then(setValidation)
        .catch((err: unknown) => {
          const r = refusalProblems(err);
          setValidation({
            ok: false,
            problems: r.problems.length
              ? r.problems
              : [{ elementId: '', source: 'xml', severity: 'error', message: r.message }],
            svgs: [],
          });
        });
    }, VALIDATE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [kind, draft, deployedXml, canValidate]);

  const deploy = useCallback(
    async (comment: string) => {
      await apiFetch('/api/diagrams/deploy', { method: 'POST', json: { kind, xml: draft, comment } });
      await reload();
    },
    [kind, draft, reload],
  );

  const rollback = useCallback(
    async (version: number, comment: string) => {
      await apiFetch(`/api/diagrams/${kind}/${encodeURIComponent(id)}/versions/${version}/rollback`, {
        method: 'POST',
        json: { comment },
      });
      await reload();
    },
    [kind, id, reload],
  );

  return { versions, deployedXml, deployedSvgs, draft, setDraft, validation, loadError, deploy, rollback, reload };
}
