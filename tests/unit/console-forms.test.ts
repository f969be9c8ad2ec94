/**
 * The console renders every task form from the shared zod schemas: each field must carry a Chinese
 * label and each choice Chinese option labels, and the console's validation must give the API's own
 * messages on the right fields.
 */
import { describe, expect, it } from 'vitest';
import { taskForms } from '../../api/tasks/forms.js';
import { cleanValues, errorsOf, type FieldSpec, formOf, validateWith } from '../../admin-ui/src/tasks/schemaForm.js';

const CJK = /[\u4e00-\u9fff]/;

function allFields(fields: FieldSpec[]): FieldSpec[] {
  return fields.flatMap((f) => [f, ...allFields(f.lineFields ?? [])]);
}

describe('task forms in the console', () => {
  it('has a form for every task type the API completes, with the same title', () => {
    for (const [elementId, form] of Object.entries(taskForms)) {
      expect(formOf(elementId)?.title, elementId).toBe(form.title);
    }
    expect(formOf('noSuchTask')).toBeUndefined();
  });

  it('labels every field and every option in Chinese', () => {
    for (const elementId of Object.keys(taskForms)) {
      for (const field of allFields(formOf(elementId)!.fields)) {
        expect(field.title, `${elementId}.${field.name}`).toMatch(CJK);
        for (const option of field.options ?? []) expect(option.name, `${elementId}.${field.name}`).toMatch(CJK);
      }
    }
  });

  it('renders the roster of registerArrivals as lines with a yes/no and a note, the child not editable', () => {
    const [pupils] = formOf('registerArrivals')!.fields;
    expect(pupils).toMatchObject({ name: 'pupils', kind: 'lines' });
    expect(pupils!.lineFields!.map((f) => [f.name, f.kind])).toEqual([
      ['arrived', 'boolean'],
      ['note', 'text'],
    ]);
  });

  it('picks each input by the field’s kind', () => {
    const kinds = Object.fromEntries(formOf('visitFamily')!.fields.map((f) => [f.name, f.kind]));
    expect(kinds).toEqual({
      visitedOn: 'date',
      visitors: 'text',
      outcome: 'select',
      whereabouts: 'text',
      note: 'multiline',
    });
    const verify = Object.fromEntries(formOf('verifyChild')!.fields.map((f) => [f.name, f.kind]));
    expect(verify).toMatchObject({ outcomeCode: 'lookup', responsibleSchoolId: 'lookup', registration: 'select' });
    expect(formOf('handOverRoster')!.fields[0]).toMatchObject({ name: 'paperFilesHandedOver', kind: 'confirm' });
    expect(formOf('censusSpecialNeeds')!.fields[0]).toMatchObject({ name: 'surveyed', kind: 'number', required: true });
  });

  it('validates with the API’s messages on the fields, cross-field rules included', () => {
    const validate = validateWith(formOf('visitFamily')!.schema);
    expect(validate({ visitedOn: '', visitors: '' })).toMatchObject({
      visitedOn: expect.stringContaining('家访日期'),
      visitors: '请填写家访人员',
      outcome: '请选择家访结果',
    });
    expect(
      validate({ visitedOn: '2026-11-18', visitors: '王老师', outcome: 'TRANSFER_FOUND', whereabouts: '' }),
    ).toEqual({ whereabouts: '请填写儿童现就读学校' });
    expect(validate({ visitedOn: '2026-11-18', visitors: '王老师', outcome: 'PERSUASION_FAILED', note: '' })).toEqual(
      {},
    );
  });

  it('puts a roster line’s error on that line', () => {
    const errors = errorsOf([
      { path: ['pupils', 3, 'note'], message: '太长' },
      { path: [], message: 'ignored' },
    ]);
    expect(errors).toEqual({ pupils: { 3: { note: '太长' } } });
  });

  it('sends empty inputs as "not given", inside roster lines too', () => {
    expect(cleanValues({ a: '', b: null, c: 'x', lines: [{ note: '', arrived: false }] })).toEqual({
      c: 'x',
      lines: [{ arrived: false }],
    });
  });
});
