/**
 * Terraform reads `${` and `%{` in any string as template syntax. Text that
 * must reach AWS verbatim (the schema, resolver code) is escaped so Terraform
 * evaluates it back to exactly the original.
 */
export function terraformLiteral(text: string): string {
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

/** Inverse of terraformLiteral: what Terraform will send for an escaped literal. */
export function evaluateTerraformLiteral(text: string): string {
  return text.replace(/\$\$\{/g, () => '${').replace(/%%\{/g, () => '%{');
}
