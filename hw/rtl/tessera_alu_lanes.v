// The vector ALU: one int32 operation per accumulator lane per cycle.
// MIN/MAX signed, ADD wraps, MUL keeps the low 32 bits of the signed product, SHR takes
// n = b[5:0] as a signed amount (-32..31): n >= 0 shifts right arithmetically by n, n < 0
// shifts left by -n (low 32 bits). An unknown op yields a (the unit rejects it earlier), and
// so does en_i low (nothing is computed while the ALU idles).
`default_nettype none

module tessera_alu_lanes (
    input  wire                en_i,
    input  wire [2:0]          op_i,
    input  wire [ACC_BITS-1:0] a_i,
    input  wire [ACC_BITS-1:0] b_i,
    output wire [ACC_BITS-1:0] y_o
);
`include "tessera_params.vh"

  localparam integer LANES = ACC_BITS / ACC_W;

  genvar l;
  generate
    for (l = 0; l < LANES; l = l + 1) begin : g_lane
      wire signed [31:0] a = a_i[l*ACC_W +: ACC_W];
      wire signed [31:0] b = b_i[l*ACC_W +: ACC_W];
      wire [5:0] amount = b[5:0];
      wire [5:0] left = 6'd0 - amount;
      reg [63:0] prod;
      reg [31:0] y;
      always @* begin
        prod = 64'd0;
        if (!en_i) y = a;
        else case (op_i)
          ALU_OP_MIN[2:0]: y = (a < b) ? a : b;
          ALU_OP_MAX[2:0]: y = (a > b) ? a : b;
          ALU_OP_ADD[2:0]: y = a + b;
          ALU_OP_SHR[2:0]: y = amount[5] ? (a << left) : (a >>> amount);
          ALU_OP_MUL[2:0]: begin
            prod = a * b;
            y = prod[31:0];
          end
          default: y = a;
        endcase
      end
      wire unused_ok = &{1'b0, prod[63:32], 1'b0};
      assign y_o[l*ACC_W +: ACC_W] = y;
    end
  endgenerate
endmodule

`default_nettype wire
