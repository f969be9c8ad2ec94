import { SelectInput, useGetList } from 'react-admin';

/** The towns of the caller's jurisdiction, chosen by their 9-digit code. */
export function TownInput({ source, label }: { source: string; label: string }) {
  const { data = [] } = useGetList('towns', {
    pagination: { page: 1, perPage: 200 },
    sort: { field: 'code', order: 'ASC' },
  });
  return <SelectInput source={source} label={label} choices={data.map((t) => ({ id: t.code, name: t.name }))} />;
}
