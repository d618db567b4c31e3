/** The Cancel and submit buttons at the foot of a dialog's form. */
export function FormActions({
  onCancel,
  submitLabel,
  busyLabel,
  busy,
  disabled = false,
  danger = false,
}: {
  onCancel: () => void;
  submitLabel: string;
  busyLabel: string;
  busy: boolean;
  disabled?: boolean;
  /** The submit button is styled as a danger (an action hard to undo, such as a transfer). */
  danger?: boolean;
}) {
  return (
    <div className="flex justify-end gap-2">
      <button type="button" className="btn-secondary" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className={danger ? "btn-danger" : "btn-primary"} disabled={busy || disabled}>
        {busy ? busyLabel : submitLabel}
      </button>
    </div>
  );
}
