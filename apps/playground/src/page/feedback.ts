// What the page tells the user besides results: the error box, the cut warnings, the busy marker.
import { byId, el } from './dom';

export function showError(message: string): void {
  const box = byId('error');
  box.textContent = message;
  box.hidden = false;
}

export function clearError(): void {
  byId('error').hidden = true;
  byId('error').textContent = '';
}

/**
 * The cuts the run's length policy made (the instruction's, the inputs'), shown above the outputs: the
 * models read the cut texts, as training did.
 */
export function showWarnings(warnings: readonly string[]): void {
  const box = byId('warnings');
  box.textContent = '';
  for (const w of warnings) box.append(el('div', { class: 'warning-line' }, `⚠ ${w}`));
  box.hidden = warnings.length === 0;
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Runs one user action: the busy marker while it runs, its error (if any) in the error box. */
export async function busy(action: () => Promise<void>): Promise<void> {
  clearError();
  byId('busy').hidden = false;
  document.querySelectorAll('button').forEach((b) => b.setAttribute('data-busy', '1'));
  try {
    await action();
  } catch (e) {
    showError(errorText(e));
  } finally {
    byId('busy').hidden = true;
    document.querySelectorAll('button').forEach((b) => b.removeAttribute('data-busy'));
  }
}
