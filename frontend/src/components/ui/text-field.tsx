import type { ComponentPropsWithRef } from "react";

type TextFieldProps = Omit<ComponentPropsWithRef<"input">, "id" | "className" | "aria-describedby" | "aria-invalid"> & {
  id: string;
  label: string;
  /** What the browser may fill in ("email", "current-password", "new-password", …): required so every field decides. */
  autoComplete: string;
  hint?: string;
  error?: string;
};

/**
 * A labelled text input with its hint and its error, both tied to the input through
 * aria-describedby; the input is marked aria-invalid while it has an error. The other props
 * (type, register()'s name/ref/onChange/onBlur, …) go to the <input>.
 */
export function TextField({ id, label, hint, error, ...input }: TextFieldProps) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {label}
      </label>
      <input id={id} className="input aria-invalid:border-red-700" aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
      {hint ? (
        <p id={hintId} className="text-xs text-slate-600">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="text-xs text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}
