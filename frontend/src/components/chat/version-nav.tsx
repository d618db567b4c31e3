"use client";

type VersionNavProps = {
  /** What the versions are of, for screen readers: "answer" or "question". */
  noun: string;
  version: number;
  versionIds: string[];
  onSelect: (messageId: string) => void;
  disabled?: boolean;
};

/** `< 2/3 >`: the versions of one turn (answers regenerated, questions edited and sent again). */
export function VersionNav({ noun, version, versionIds, onSelect, disabled = false }: VersionNavProps) {
  const count = versionIds.length;
  if (count < 2) return null;
  const go = (to: number) => {
    const id = versionIds[to - 1];
    if (id) onSelect(id);
  };
  return (
    <div className="flex items-center gap-0.5 text-xs text-slate-700" role="group" aria-label={`Versions of this ${noun}`} data-testid="version-nav">
      <button
        type="button"
        className="rounded px-1.5 py-0.5 hover:bg-slate-100 disabled:opacity-40"
        aria-label="Previous version"
        disabled={disabled || version <= 1}
        onClick={() => go(version - 1)}
      >
        <span aria-hidden="true">‹</span>
      </button>
      <span aria-label={`Version ${version} of ${count}`} data-testid="version-label">
        {version}/{count}
      </span>
      <button
        type="button"
        className="rounded px-1.5 py-0.5 hover:bg-slate-100 disabled:opacity-40"
        aria-label="Next version"
        disabled={disabled || version >= count}
        onClick={() => go(version + 1)}
      >
        <span aria-hidden="true">›</span>
      </button>
    </div>
  );
}
