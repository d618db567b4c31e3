import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { TextField } from "./text-field";

describe("TextField", () => {
  it("ties the label, the hint and the error to the input", () => {
    render(
      <TextField id="password" label="Password" type="password" autoComplete="new-password" hint="At least 10 characters." error="Too short." />,
    );
    const input = screen.getByLabelText("Password");
    expect(input).toHaveAttribute("type", "password");
    expect(input).toHaveAttribute("autocomplete", "new-password");
    expect(input).toBeInvalid();
    expect(input).toHaveAccessibleDescription("At least 10 characters. Too short.");
  });

  it("is valid and undescribed without a hint or an error", () => {
    render(<TextField id="email" label="Email" type="email" autoComplete="email" />);
    const input = screen.getByLabelText("Email");
    expect(input).not.toHaveAttribute("aria-invalid");
    expect(input).not.toHaveAttribute("aria-describedby");
  });
});
