// First-word-fall-through FIFO: rdata_o shows the head while empty_o is low.
// A push when full and a pop when empty are ignored; push and pop may share a cycle.
`default_nettype none

module tessera_fifo #(
    parameter integer WIDTH = 8,
    parameter integer LOG_DEPTH = 2
) (
    input  wire                 clk_i,
    input  wire                 rst_ni,
    input  wire                 clear_i,
    input  wire                 push_i,
    input  wire [WIDTH-1:0]     wdata_i,
    output wire                 full_o,
    input  wire                 pop_i,
    output wire [WIDTH-1:0]     rdata_o,
    output wire                 empty_o,
    output wire [LOG_DEPTH:0]   count_o
);
  localparam integer DEPTH = 1 << LOG_DEPTH;

  reg [WIDTH-1:0]     mem_q [0:DEPTH-1];
  reg [LOG_DEPTH-1:0] rd_q, rd_d;
  reg [LOG_DEPTH-1:0] wr_q, wr_d;
  reg [LOG_DEPTH:0]   cnt_q, cnt_d;

  wire full = cnt_q == DEPTH[LOG_DEPTH:0];
  wire empty = cnt_q == {(LOG_DEPTH+1){1'b0}};
  wire do_push = push_i && !full;
  wire do_pop = pop_i && !empty;

  always @* begin
    rd_d = rd_q;
    wr_d = wr_q;
    cnt_d = cnt_q;
    if (do_push) wr_d = wr_q + {{(LOG_DEPTH-1){1'b0}}, 1'b1};
    if (do_pop) rd_d = rd_q + {{(LOG_DEPTH-1){1'b0}}, 1'b1};
    if (do_push && !do_pop) cnt_d = cnt_q + {{LOG_DEPTH{1'b0}}, 1'b1};
    if (do_pop && !do_push) cnt_d = cnt_q - {{LOG_DEPTH{1'b0}}, 1'b1};
  end

  always @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      rd_q <= {LOG_DEPTH{1'b0}};
      wr_q <= {LOG_DEPTH{1'b0}};
      cnt_q <= {(LOG_DEPTH+1){1'b0}};
    end else begin
      rd_q <= rd_d;
      wr_q <= wr_d;
      cnt_q <= cnt_d;
    end
  end

  always @(posedge clk_i) begin
    if (do_push) mem_q[wr_q] <= wdata_i;
  end

  assign full_o = full;
  assign empty_o = empty;
  assign rdata_o = mem_q[rd_q];
  assign count_o = cnt_q;
endmodule

`default_nettype wire
