/**
 * The console's date fields are MUI X date pickers in Chinese (2026年11月18日), not native date inputs:
 * a caseworker types the digits and they fill year, month and day.
 */
import type { Page } from 'playwright-core';

/** Types a YYYY-MM-DD day into the date field named `name`, as a person would, from its first section. */
export async function typeDate(page: Page, name: string, day: string): Promise<void> {
  const input = page.locator(`input[name=${name}]`);
  await input.click();
  await input.press('ControlOrMeta+a');
  await page.keyboard.type(day.replaceAll('-', ''));
  await input.blur();
}
