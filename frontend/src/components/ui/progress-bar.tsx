export function ProgressBar({ value, label, tone = "brand" }: { value: number; label: string; tone?: "brand" | "muted" }) {
  const clamped = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={clamped}
      className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
    >
      <div
        className={`h-full rounded-full transition-[width] duration-300 ${tone === "brand" ? "bg-blue-600" : "bg-slate-500"}`}
        style={{ width: `${clamped}%` }}
      />
    </div>
  );
}
